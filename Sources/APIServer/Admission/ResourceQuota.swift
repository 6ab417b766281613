import APIMachinery
import Foundation
import Quota
import Storage

/// `ResourceQuota`: a write that would take a namespace's usage past any matching quota's hard limit is
/// refused with upstream's `exceeded quota` message; an admitted one is charged to the quotas' `status.used`
/// before the object is written. The charge is a compare-and-swap on each quota's storage revision,
/// retried on conflict as upstream's quota evaluator does, so concurrent creates (on this server or another)
/// can never together pass the last unit. As upstream's, a quota binds once the controller-manager's
/// resourcequota controller has written its `status.hard`, and names it lists without a measured `used`
/// are refused as "status unknown"; deletes are released by that controller's next measure.
struct ResourceQuotaAdmission: AdmissionPlugin {
    var name: String { "ResourceQuota" }

    let quotas = NamespacedObjectCache(folder: "resourcequotas")

    static let resourceQuotas = GroupResource(group: "", resource: "resourcequotas")
    /// Charging rounds before giving up with a conflict; every round lets at least one contender through.
    static let maxAttempts = 64

    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        guard attributes.subresource.isEmpty, let namespace = attributes.namespace, !namespace.isEmpty else { return }
        let evaluator = QuotaEvaluator(attributes.resource)
        guard evaluator.handles(attributes.operation) else { return }
        let names = try await quotas.objects(in: namespace, context: context).compactMap(\.name)
        guard !names.isEmpty else { return }
        let prefix = context.storagePrefix + "/resourcequotas/" + namespace + "/"
        var charged: Set<String> = []
        var lastConflict = names[0]
        for attempt in 0..<Self.maxAttempts {
            if attempt > 0 { try await Task.sleep(for: .microseconds(Int.random(in: 200..<2000))) }
            var current: [(name: String, stored: KeyValue, quota: JSON)] = []
            for name in names where !charged.contains(name) {
                if let stored = try await context.storage.get(key: prefix + name),
                    let quota = try? JSON.parse(stored.value)
                {
                    current.append((name, stored, quota))
                }
            }
            let charges = try Self.check(
                current.map { ($0.name, $0.quota) }, attributes, object: object, evaluator: evaluator)
            if attributes.dryRun { return }
            var conflict = false
            for (index, entry) in current.enumerated() {
                guard let used = charges[entry.name] else { continue }
                var quota = entry.quota
                quota.set(["status", "used"], to: ResourceLists.json(used))
                do {
                    _ = try await context.storage.update(
                        key: entry.stored.key, value: quota.encoded(), expectedRevision: entry.stored.modRevision,
                        lease: entry.stored.lease)
                    charged.insert(entry.name)
                } catch StorageError.conflict {
                    conflict = true
                    lastConflict = current[index].name
                } catch StorageError.keyNotFound {
                    // The quota went away meanwhile: nothing to charge it.
                }
            }
            if !conflict { return }
        }
        throw APIError.staleUpdate(Self.resourceQuotas, name: lastConflict)
    }

    /// Upstream's `CheckRequest`: the new `status.used` of every quota this write changes, by name, or the
    /// refusal. Quotas are read as stored, so the check and the charge see the same revision.
    static func check(
        _ quotas: [(name: String, quota: JSON)], _ attributes: AdmissionAttributes, object: JSON,
        evaluator: QuotaEvaluator
    ) throws -> [String: ResourceList] {
        var interesting: [(name: String, hard: ResourceList, used: ResourceList)] = []
        for (name, quota) in quotas {
            let hard = ResourceLists.parse(quota["status"]?["hard"])
            let restricted = evaluator.matchingResources(hard.keys)
            guard !restricted.isEmpty, QuotaScopes(spec: quota["spec"]).matches(evaluator.kind, object) else {
                continue
            }
            if let error = evaluator.constraintError(restricted, object) {
                throw attributes.forbidden("failed quota: \(name): \(error)", object: object)
            }
            let used = ResourceLists.parse(quota["status"]?["used"])
            let unknown = restricted.filter { used[$0] == nil }
            if !unknown.isEmpty {
                throw attributes.forbidden(
                    "status unknown for quota: \(name), resources: \(unknown.sorted().joined(separator: ","))",
                    object: object)
            }
            interesting.append((name, hard, used))
        }
        guard !interesting.isEmpty else { return [:] }
        var delta = evaluator.usage(object)
        let negative = delta.filter { $0.value.sign < 0 }.keys.sorted()
        if !negative.isEmpty {
            throw attributes.forbidden(
                "quota usage is negative for resource(s): \(negative.joined(separator: ","))", object: object)
        }
        if attributes.operation == .update, let old = attributes.oldObject, !(old.resourceVersion ?? "").isEmpty {
            delta = subtractClamped(delta, evaluator.usage(old))
        }
        guard delta.values.contains(where: { !$0.isZero }) else { return [:] }
        var charges: [String: ResourceList] = [:]
        for (name, hard, used) in interesting {
            let requested = ResourceLists.mask(delta, hard.keys)
            let newUsage = ResourceLists.sum(used, requested)
            let exceeded = requested.keys.filter { key in
                guard let limit = hard[key], let total = newUsage[key] else { return false }
                return total > limit
            }
            if !exceeded.isEmpty {
                throw attributes.forbidden(
                    "exceeded quota: \(name), requested: \(ResourceLists.pretty(ResourceLists.mask(requested, exceeded))), used: \(ResourceLists.pretty(ResourceLists.mask(used, exceeded))), limited: \(ResourceLists.pretty(ResourceLists.mask(hard, exceeded)))",
                    object: object)
            }
            if newUsage != used { charges[name] = newUsage }
        }
        return charges
    }

    /// `a - b` per resource, never below zero, over the names of both (upstream's
    /// `SubtractWithNonNegativeResult`).
    static func subtractClamped(_ a: ResourceList, _ b: ResourceList) -> ResourceList {
        var result: ResourceList = [:]
        for (key, value) in a {
            let difference = value - (b[key] ?? Quantity())
            result[key] = difference.sign > 0 ? difference : Quantity()
        }
        for key in b.keys where result[key] == nil { result[key] = Quantity() }
        return result
    }
}

extension QuotaEvaluator {
    /// Which writes can change usage: creates always; updates for services (their type can change) and
    /// claims (they can grow).
    func handles(_ operation: AdmissionAttributes.Operation) -> Bool {
        switch operation {
        case .create: true
        case .update: kind == .services || kind == .claims
        case .delete: false
        }
    }
}

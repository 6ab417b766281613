import APIMachinery

/// `Priority`: a new pod's `priority` and `preemptionPolicy` come from its PriorityClass (or the global
/// default class, else 0), never from its author; an update keeps what creation set. Only one PriorityClass
/// may be the global default. Classes come from a watch-fed cache, as upstream's plugin reads a lister; a
/// class the cache does not know yet (created a moment ago) is read from storage.
struct PriorityAdmission: AdmissionPlugin {
    var name: String { "Priority" }

    let cache = PriorityClassCache()

    static let pods = GroupResource(group: "", resource: "pods")
    static let priorityClasses = GroupResource(group: "scheduling.k8s.io", resource: "priorityclasses")

    func admit(_ attributes: AdmissionAttributes, object: inout JSON, context: RegistryContext) async throws {
        guard attributes.resource == Self.pods, attributes.subresource.isEmpty else { return }
        switch attributes.operation {
        case .update:
            // Creation set these; a client's full update that leaves them out keeps them.
            guard let old = attributes.oldObject else { return }
            for field in ["priority", "preemptionPolicy"] where object["spec"]?[field] == nil {
                if let value = old["spec"]?[field] { object.set(["spec", field], to: value) }
            }
        case .create:
            try await admitNewPod(attributes, pod: &object, context: context)
        case .delete:
            return
        }
    }

    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        guard attributes.resource == Self.priorityClasses, attributes.operation != .delete, object.isGlobalDefault,
            let current = try await cache.classes(context: context).first(where: \.isGlobalDefault)
        else { return }
        if attributes.operation == .create || current.name != object.name {
            throw attributes.forbidden(
                "PriorityClass \(current.name ?? "") is already marked as default. Only one default can exist",
                object: object)
        }
    }

    private func admitNewPod(_ attributes: AdmissionAttributes, pod: inout JSON, context: RegistryContext)
        async throws
    {
        let className = pod["spec"]?["priorityClassName"]?.stringValue ?? ""
        let priority: Int64
        let policy: JSON
        if className.isEmpty {
            let defaultClass = try await cache.classes(context: context).first(where: \.isGlobalDefault)
            priority = defaultClass?["value"]?.intValue ?? 0
            policy = defaultClass?["preemptionPolicy"] ?? "PreemptLowerPriority"
            if let name = defaultClass?.name { pod.set(["spec", "priorityClassName"], to: .string(name)) }
        } else {
            guard let found = try await cache.priorityClass(className, context: context) else {
                throw attributes.forbidden("no PriorityClass with name \(className) was found", object: pod)
            }
            priority = found["value"]?.intValue ?? 0
            policy = found["preemptionPolicy"] ?? "PreemptLowerPriority"
        }
        if let given = pod["spec"]?["priority"]?.intValue, given != priority {
            throw attributes.forbidden(
                "the integer value of priority (\(given)) must not be provided in pod spec; priority admission controller computed \(priority) from the given PriorityClass name",
                object: pod)
        }
        if let given = pod["spec"]?["preemptionPolicy"], given != policy {
            throw attributes.forbidden(
                "the string value of PreemptionPolicy (\(given.stringValue ?? "")) must not be provided in pod spec; priority admission controller computed \(policy.stringValue ?? "") from the given PriorityClass name",
                object: pod)
        }
        pod.set(["spec", "priority"], to: .int(priority))
        pod.set(["spec", "preemptionPolicy"], to: policy)
    }
}

/// Every PriorityClass, listed once and then kept by a storage watch, so a pod's admission reads memory
/// rather than listing the classes from storage.
struct PriorityClassCache: Sendable {
    private let stored = ClusterObjectCache<JSON>(folder: "priorityclasses") { $0 }

    /// Every class, in name order.
    func classes(context: RegistryContext) async throws -> [JSON] {
        try await stored.values(context: context)
    }

    /// The class named `name`; one the watch has not delivered yet is read from storage.
    func priorityClass(_ name: String, context: RegistryContext) async throws -> JSON? {
        if let found = try await stored.value(named: name, context: context) { return found }
        let key = context.storagePrefix + "/priorityclasses/" + name
        guard let value = try await context.storage.get(key: key) else { return nil }
        return try? JSON.parse(value.value)
    }
}

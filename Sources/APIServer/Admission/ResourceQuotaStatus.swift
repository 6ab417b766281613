import APIMachinery
import Foundation
import NIOConcurrencyHelpers
import Quota
import Storage

/// Keeps every ResourceQuota's status true until a controller-manager takes the job over, as upstream's
/// resource quota controller does: `hard` copied from spec and `used` measured from the stored objects
/// whenever a quota's spec changes, an object in a namespace with quotas is deleted or changes what it
/// uses (a pod finishing, a service changing type), and on a full resync every five minutes.
///
/// Measuring is idempotent, so several API servers may all run it; like upstream's controller it can
/// momentarily miss a create that was charged but not yet written, which the next measure corrects.
enum ResourceQuotaStatus {
    /// The stored objects' usage of every resource `quota` limits, zeros included.
    static func usage(namespace: String, quota: JSON, context: RegistryContext) async throws -> ResourceList {
        let hard = ResourceLists.parse(quota["spec"]?["hard"])
        let scopes = QuotaScopes(spec: quota["spec"])
        var used: ResourceList = [:]
        let now = Date()
        for evaluator in QuotaEvaluator.evaluators(for: hard.keys) {
            let kind = evaluator.resource
            let names = evaluator.matchingResources(hard.keys)
            guard !names.isEmpty else { continue }
            for name in names { used[name] = used[name] ?? Quantity() }
            guard
                let folder = Catalog.resources.first(where: { $0.groupResource == kind && $0.namespaced })?
                    .storageFolder
            else { continue }
            let prefix = context.storagePrefix + "/" + folder + "/" + namespace + "/"
            let items = try await context.storage.range(
                start: prefix, end: RegistryStore.prefixEnd(prefix), limit: 0, revision: nil
            ).items
            for item in items {
                guard let object = try? JSON.parse(item.value), scopes.matches(evaluator.kind, object) else { continue }
                ResourceLists.add(&used, ResourceLists.mask(evaluator.usage(object, now: now), names))
            }
        }
        return used
    }

    /// The status `quota` should have: hard from spec, used as measured.
    static func status(namespace: String, quota: JSON, context: RegistryContext) async throws -> JSON {
        let used = try await usage(namespace: namespace, quota: quota, context: context)
        return [
            "hard": ResourceLists.json(ResourceLists.parse(quota["spec"]?["hard"])), "used": ResourceLists.json(used),
        ]
    }

    /// Brings every quota of `namespace` up to date, retrying a quota whose write raced another.
    static func sync(namespace: String, context: RegistryContext) async {
        let prefix = context.storagePrefix + "/resourcequotas/" + namespace + "/"
        guard
            let items = try? await context.storage.range(
                start: prefix, end: RegistryStore.prefixEnd(prefix), limit: 0, revision: nil
            ).items
        else { return }
        for item in items {
            var stored: KeyValue? = item
            for _ in 0..<8 {
                guard let current = stored, var quota = try? JSON.parse(current.value),
                    let status = try? await status(namespace: namespace, quota: quota, context: context)
                else { break }
                if Self.same(quota["status"], status) { break }
                quota["status"] = status
                do {
                    _ = try await context.storage.update(
                        key: current.key, value: quota.encoded(), expectedRevision: current.modRevision,
                        lease: current.lease)
                    break
                } catch {
                    stored = try? await context.storage.get(key: current.key)
                }
            }
        }
    }

    /// Equal as quantities, so `1000m` and `1` are the same status.
    static func same(_ a: JSON?, _ b: JSON) -> Bool {
        ResourceLists.parse(a?["hard"]) == ResourceLists.parse(b["hard"])
            && ResourceLists.parse(a?["used"]) == ResourceLists.parse(b["used"])
            && Set(a?["hard"]?.objectValue?.keys ?? []) == Set(b["hard"]?.objectValue?.keys ?? [])
            && Set(a?["used"]?.objectValue?.keys ?? []) == Set(b["used"]?.objectValue?.keys ?? [])
    }
}

extension APIServer {
    /// Runs `ResourceQuotaStatus` until cancelled: one storage watch over the whole registry marks
    /// namespaces whose quotas need measuring, and one worker measures them, each namespace once per batch.
    public func runResourceQuotaStatus(resync: Duration = .seconds(300)) async {
        let quotas =
            context.admission.plugins.compactMap { ($0 as? ResourceQuotaAdmission)?.quotas }.first
            ?? NamespacedObjectCache(folder: "resourcequotas")
        let pending = NIOLockedValueBox(Set<String>())
        let (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let context = self.context
        let mark: @Sendable (String) -> Void = { namespace in
            pending.withLockedValue { _ = $0.insert(namespace) }
            signal.yield()
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in signals {
                    let batch = pending.withLockedValue { set in
                        defer { set.removeAll() }
                        return set
                    }
                    for namespace in batch.sorted() {
                        await ResourceQuotaStatus.sync(namespace: namespace, context: context)
                    }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    for namespace in (try? await quotas.namespaces(context: context)) ?? [] { mark(namespace) }
                    try? await Task.sleep(for: resync)
                }
            }
            group.addTask {
                await Self.watchForQuotaChanges(context: context, quotas: quotas, mark: mark)
            }
            await group.waitForAll()
        }
    }

    /// Follows every write and marks the namespaces whose quota usage it may have changed.
    static func watchForQuotaChanges(
        context: RegistryContext, quotas: NamespacedObjectCache, mark: @escaping @Sendable (String) -> Void
    ) async {
        let root = context.storagePrefix + "/"
        let folders = Catalog.resources.filter(\.namespaced).map { (root + $0.storageFolder + "/", $0.groupResource) }
            .sorted { $0.0.count > $1.0.count }
        let quotaFolder = root + "resourcequotas/"
        var revision = (try? await context.storage.currentRevision()) ?? 0
        while !Task.isCancelled {
            do {
                for try await event in context.storage.watch(
                    start: root, end: RegistryStore.prefixEnd(root), afterRevision: revision)
                {
                    revision = event.revision
                    let key = event.current.key
                    guard let (folder, resource) = folders.first(where: { key.hasPrefix($0.0) }),
                        let (namespace, _) = NamespacedObjectCache.split(key, prefix: folder)
                    else { continue }
                    if folder == quotaFolder {
                        // A quota whose status does not reflect its spec (written with ResourceQuota disabled,
                        // or by a status update) needs measuring.
                        if event.kind == .put, let quota = try? JSON.parse(event.current.value),
                            ResourceLists.parse(quota["status"]?["hard"]) != ResourceLists.parse(quota["spec"]?["hard"])
                                || quota["status"]?["used"] == nil
                        {
                            mark(namespace)
                        }
                        continue
                    }
                    guard (try? await quotas.contains(namespace: namespace, context: context)) == true else {
                        continue
                    }
                    if event.kind == .delete {
                        mark(namespace)
                    } else if let previous = event.previous, Self.usageChanged(resource, previous, event.current) {
                        mark(namespace)
                    }
                }
            } catch StorageError.compacted {
                revision = (try? await context.storage.currentRevision()) ?? revision
                for namespace in (try? await quotas.namespaces(context: context)) ?? [] { mark(namespace) }
            } catch {
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// Whether an update changed what the object uses (only kinds with more than an object count can).
    static func usageChanged(_ resource: GroupResource, _ previous: KeyValue, _ current: KeyValue) -> Bool {
        let evaluator = QuotaEvaluator(resource)
        guard evaluator.kind != .objectCount, let old = try? JSON.parse(previous.value),
            let new = try? JSON.parse(current.value)
        else { return false }
        return evaluator.usage(old) != evaluator.usage(new)
    }
}

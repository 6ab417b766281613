import APIMachinery
import NIOConcurrencyHelpers
import Storage

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
final class PriorityClassCache: Sendable {
    private struct State {
        var classes: [String: JSON] = [:]
        var loading: Task<Void, any Error>?
        var ready = false
    }

    private let state = NIOLockedValueBox(State())

    /// Every class, in name order.
    func classes(context: RegistryContext) async throws -> [JSON] {
        try await start(context)
        return state.withLockedValue { state in state.classes.keys.sorted().compactMap { state.classes[$0] } }
    }

    /// The class named `name`; one the watch has not delivered yet is read from storage.
    func priorityClass(_ name: String, context: RegistryContext) async throws -> JSON? {
        try await start(context)
        if let found = state.withLockedValue({ $0.classes[name] }) { return found }
        guard let value = try await context.storage.get(key: Self.prefix(context) + name) else { return nil }
        return try? JSON.parse(value.value)
    }

    private static func prefix(_ context: RegistryContext) -> String { context.storagePrefix + "/priorityclasses/" }

    private func start(_ context: RegistryContext) async throws {
        let loading: Task<Void, any Error>? = state.withLockedValue { state in
            if state.ready { return nil }
            if let task = state.loading { return task }
            let task = Task { try await self.load(storage: context.storage, prefix: Self.prefix(context)) }
            state.loading = task
            return task
        }
        guard let loading else { return }
        do {
            try await loading.value
        } catch {
            // A failed first list is retried by the next caller.
            state.withLockedValue { state in if !state.ready { state.loading = nil } }
            throw error
        }
    }

    private func load(storage: any KeyValueStore, prefix: String) async throws {
        let revision = try await relist(storage: storage, prefix: prefix)
        state.withLockedValue { $0.ready = true }
        Task { await self.follow(storage: storage, prefix: prefix, after: revision) }
    }

    private func relist(storage: any KeyValueStore, prefix: String) async throws -> Revision {
        let result = try await storage.range(
            start: prefix, end: RegistryStore.prefixEnd(prefix), limit: 0, revision: nil)
        var classes: [String: JSON] = [:]
        for item in result.items {
            if let object = try? JSON.parse(item.value) { classes[String(item.key.dropFirst(prefix.count))] = object }
        }
        state.withLockedValue { $0.classes = classes }
        return result.revision
    }

    /// Follows the classes for the server's life; a compacted watch lists again, a failed one retries.
    private func follow(storage: any KeyValueStore, prefix: String, after start: Revision) async {
        var revision = start
        while !Task.isCancelled {
            do {
                for try await event in storage.watch(
                    start: prefix, end: RegistryStore.prefixEnd(prefix), afterRevision: revision)
                {
                    let name = String(event.current.key.dropFirst(prefix.count))
                    let object = event.kind == .put ? try? JSON.parse(event.current.value) : nil
                    state.withLockedValue { $0.classes[name] = object }
                    revision = event.revision
                }
            } catch StorageError.compacted {
                if let listed = try? await relist(storage: storage, prefix: prefix) { revision = listed }
            } catch {
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}

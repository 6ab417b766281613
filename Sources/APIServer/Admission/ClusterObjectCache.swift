import APIMachinery
import NIOConcurrencyHelpers
import Storage

/// A cluster-scoped kind's objects (webhook configurations, namespaces), each turned into what admission
/// needs once per change and kept current by a storage watch, as upstream's webhook plugins read them from
/// informers: a request costs a lock, never a storage read.
///
/// It starts on first use: the first callers wait for the initial list, later ones never wait. Like an
/// informer it lags a write by the watch's delivery delay.
final class ClusterObjectCache<Value: Sendable>: Sendable {
    /// The storage folder under the prefix (`mutatingwebhookconfigurations`).
    let folder: String
    private let transform: @Sendable (JSON) -> Value

    private struct State {
        var byName: [String: Value] = [:]
        /// `byName`'s values in name order, rebuilt on change so readers only copy an array.
        var sorted: [Value] = []
        var loading: Task<Void, any Error>?
        var ready = false
    }

    private let state = NIOLockedValueBox(State())

    init(folder: String, transform: @escaping @Sendable (JSON) -> Value) {
        self.folder = folder
        self.transform = transform
    }

    /// Every object's value, in name order.
    func values(context: RegistryContext) async throws -> [Value] {
        try await start(context)
        return state.withLockedValue { $0.sorted }
    }

    /// The value of the object named `name`, if it exists.
    func value(named name: String, context: RegistryContext) async throws -> Value? {
        try await start(context)
        return state.withLockedValue { $0.byName[name] }
    }

    private func start(_ context: RegistryContext) async throws {
        let loading: Task<Void, any Error>? = state.withLockedValue { state in
            if state.ready { return nil }
            if let task = state.loading { return task }
            let prefix = context.storagePrefix + "/" + folder + "/"
            let storage = context.storage
            let task = Task { try await self.load(storage: storage, prefix: prefix) }
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
        var byName: [String: Value] = [:]
        for item in result.items {
            guard let object = Self.object(item, prefix: prefix) else { continue }
            byName[object.name] = transform(object.json)
        }
        state.withLockedValue { state in
            state.byName = byName
            Self.sort(&state)
        }
        return result.revision
    }

    private func follow(storage: any KeyValueStore, prefix: String, after start: Revision) async {
        var revision = start
        while !Task.isCancelled {
            do {
                for try await event in storage.watch(
                    start: prefix, end: RegistryStore.prefixEnd(prefix), afterRevision: revision)
                {
                    apply(event, prefix: prefix)
                    revision = event.revision
                }
            } catch StorageError.compacted {
                if let listed = try? await relist(storage: storage, prefix: prefix) { revision = listed }
            } catch {
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    private func apply(_ event: WatchEvent, prefix: String) {
        let key = event.current.key
        guard key.hasPrefix(prefix) else { return }
        let name = String(key.dropFirst(prefix.count))
        let value = event.kind == .put ? Self.object(event.current, prefix: prefix).map { transform($0.json) } : nil
        state.withLockedValue { state in
            state.byName[name] = value
            Self.sort(&state)
        }
    }

    private static func object(_ item: KeyValue, prefix: String) -> (name: String, json: JSON)? {
        guard item.key.hasPrefix(prefix), var json = try? JSON.parse(item.value) else { return nil }
        json.setMeta("resourceVersion", .string(String(item.modRevision)))
        return (String(item.key.dropFirst(prefix.count)), json)
    }

    private static func sort(_ state: inout State) {
        state.sorted = state.byName.keys.sorted().compactMap { state.byName[$0] }
    }
}

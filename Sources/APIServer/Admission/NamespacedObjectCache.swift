import APIMachinery
import NIOConcurrencyHelpers
import Storage

/// One kind's objects (resource quotas, limit ranges) by namespace, kept current by a storage watch, as
/// upstream's admission plugins read them from an informer. Every namespaced write asks it, and the
/// common answer, "none in this namespace", costs a dictionary lookup instead of a storage range read.
///
/// It starts on first use with the server's storage: the first callers wait for the initial list, later
/// ones never wait. Like an informer it may lag a write by the watch's delivery delay; the store pushes
/// events right after each commit, so the window is a scheduling hop.
final class NamespacedObjectCache: Sendable {
    /// The storage folder under the prefix (`resourcequotas`).
    let folder: String

    private struct State {
        var objects: [String: [String: JSON]] = [:]
        /// The highest revision applied, for tests that must see a write before going on.
        var revision: Revision = 0
        var loading: Task<Void, any Error>?
        var ready = false
    }

    private let state = NIOLockedValueBox(State())

    init(folder: String) {
        self.folder = folder
    }

    /// The objects in `namespace`, in name order.
    func objects(in namespace: String, context: RegistryContext) async throws -> [JSON] {
        try await start(context)
        return state.withLockedValue { state in
            guard let byName = state.objects[namespace] else { return [] }
            return byName.keys.sorted().compactMap { byName[$0] }
        }
    }

    /// Whether `namespace` holds any object, without copying them.
    func contains(namespace: String, context: RegistryContext) async throws -> Bool {
        try await start(context)
        return state.withLockedValue { $0.objects[namespace] != nil }
    }

    /// The namespaces that hold at least one object.
    func namespaces(context: RegistryContext) async throws -> [String] {
        try await start(context)
        return state.withLockedValue { $0.objects.keys.sorted() }
    }

    /// Waits until the cache has applied every write up to `revision` (for tests and in-process callers
    /// that just wrote an object and must see it).
    func wait(forRevision revision: Revision, context: RegistryContext) async throws {
        try await start(context)
        while state.withLockedValue({ $0.revision < revision }) {
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    private func start(_ context: RegistryContext) async throws {
        let loading: Task<Void, any Error>? = state.withLockedValue { state in
            if state.ready { return nil }
            if let task = state.loading { return task }
            let prefix = context.storagePrefix + "/" + folder + "/"
            let task = Task { try await self.load(storage: context.storage, prefix: prefix) }
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

    /// Lists the folder, then follows it with a watch from the list's revision.
    private func load(storage: any KeyValueStore, prefix: String) async throws {
        let revision = try await relist(storage: storage, prefix: prefix)
        state.withLockedValue { $0.ready = true }
        Task { await self.follow(storage: storage, prefix: prefix, after: revision) }
    }

    private func relist(storage: any KeyValueStore, prefix: String) async throws -> Revision {
        let result = try await storage.range(
            start: prefix, end: RegistryStore.prefixEnd(prefix), limit: 0, revision: nil)
        var objects: [String: [String: JSON]] = [:]
        for item in result.items {
            guard let (namespace, name) = Self.split(item.key, prefix: prefix), var object = try? JSON.parse(item.value)
            else { continue }
            object.setMeta("resourceVersion", .string(String(item.modRevision)))
            objects[namespace, default: [:]][name] = object
        }
        state.withLockedValue { state in
            state.objects = objects
            state.revision = max(state.revision, result.revision)
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
        guard let (namespace, name) = Self.split(event.current.key, prefix: prefix) else { return }
        var object: JSON?
        if event.kind == .put, var parsed = try? JSON.parse(event.current.value) {
            parsed.setMeta("resourceVersion", .string(String(event.current.modRevision)))
            object = parsed
        }
        state.withLockedValue { state in
            if let object {
                state.objects[namespace, default: [:]][name] = object
            } else {
                state.objects[namespace]?[name] = nil
                if state.objects[namespace]?.isEmpty == true { state.objects[namespace] = nil }
            }
            state.revision = max(state.revision, event.revision)
        }
    }

    static func split(_ key: String, prefix: String) -> (String, String)? {
        guard key.hasPrefix(prefix) else { return nil }
        let rest = key.dropFirst(prefix.count)
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        return (String(rest[..<slash]), String(rest[rest.index(after: slash)...]))
    }
}

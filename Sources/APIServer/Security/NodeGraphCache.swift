import APIMachinery
public import Authorization
import Logging
import NIOConcurrencyHelpers
import Storage

/// The node authorizer's graph, kept current from storage by list + watch of pods and persistent volume
/// claims (upstream feeds its graph from the same informers), so a check does no storage I/O. A watch
/// that fails relists both folders and resumes.
public final class NodeGraphCache: Sendable {
    private let state = NIOLockedValueBox(NodeGraph())
    private let logger = Logger(label: "kube-apiserver.node-authorizer")

    /// The two folders the graph is built from.
    enum Folder: String, CaseIterable, Sendable {
        case pods, persistentvolumeclaims

        func put(_ object: JSON, into graph: inout NodeGraph) {
            switch self {
            case .pods: graph.put(pod: object)
            case .persistentvolumeclaims: graph.put(claim: object)
            }
        }

        /// `relativeKey` is `<namespace>/<name>`.
        func remove(relativeKey: Substring, from graph: inout NodeGraph) {
            let parts = relativeKey.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return }
            switch self {
            case .pods: graph.removePod(namespace: parts[0], name: parts[1])
            case .persistentvolumeclaims: graph.removeClaim(namespace: parts[0], name: parts[1])
            }
        }
    }

    public init() {}

    /// The current graph (a copy-on-write value taken under a lock).
    public var graph: NodeGraph { state.withLockedValue { $0 } }

    /// Loads the graph from storage and keeps it current in a background task; returns once loaded.
    func start(storage: any KeyValueStore, storagePrefix: String) async throws {
        let revision = try await load(storage: storage, storagePrefix: storagePrefix)
        Task { [self] in await follow(storage: storage, storagePrefix: storagePrefix, from: revision) }
    }

    private func load(storage: any KeyValueStore, storagePrefix: String) async throws -> Revision {
        var graph = NodeGraph()
        var revision: Revision?
        for folder in Folder.allCases {
            let prefix = storagePrefix + "/" + folder.rawValue + "/"
            let result = try await storage.range(
                start: prefix, end: RegistryStore.prefixEnd(prefix), limit: 0, revision: revision)
            revision = result.revision
            for item in result.items {
                guard let object = try? JSON.parse(item.value) else { continue }
                folder.put(object, into: &graph)
            }
        }
        state.withLockedValue { $0 = graph }
        return revision ?? 0
    }

    private func follow(storage: any KeyValueStore, storagePrefix: String, from revision: Revision) async {
        var revision = revision
        while !Task.isCancelled {
            await withTaskGroup(of: Void.self) { group in
                for folder in Folder.allCases {
                    let prefix = storagePrefix + "/" + folder.rawValue + "/"
                    let events = storage.watch(
                        start: prefix, end: RegistryStore.prefixEnd(prefix), afterRevision: revision)
                    group.addTask { [self] in
                        do {
                            for try await event in events { apply(event, folder: folder, prefix: prefix) }
                        } catch {
                            logger.warning("node graph watch of \(prefix) ended: \(error); relisting")
                        }
                    }
                }
                // One watch ending ends both, so the relist sees one consistent revision.
                await group.next()
                group.cancelAll()
            }
            if Task.isCancelled { return }
            do {
                try await Task.sleep(for: .milliseconds(200))
                revision = try await load(storage: storage, storagePrefix: storagePrefix)
            } catch {
                logger.error("node graph relist failed: \(error)")
            }
        }
    }

    private func apply(_ event: WatchEvent, folder: Folder, prefix: String) {
        state.withLockedValue { graph in
            switch event.kind {
            case .put:
                guard let object = try? JSON.parse(event.current.value) else { return }
                folder.put(object, into: &graph)
            case .delete:
                folder.remove(relativeKey: event.current.key.dropFirst(prefix.count), from: &graph)
            }
        }
    }
}

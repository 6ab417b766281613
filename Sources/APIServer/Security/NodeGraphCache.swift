import APIMachinery
public import Authorization
import Logging
import NIOConcurrencyHelpers
import Storage

/// The node authorizer's graph, kept current from storage by list + watch of pods and persistent volume
/// claims (upstream feeds its graph from the same informers), so a check does no storage I/O. A watch
/// that fails relists both folders and resumes.
public final class NodeGraphCache: Sendable {
    private let mirror = StorageFolderMirror<Folder>(
        empty: NodeGraph(), logger: Logger(label: "kube-apiserver.node-authorizer"))

    /// The two folders the graph is built from.
    enum Folder: String, MirroredFolder {
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
    public var graph: NodeGraph { mirror.value }

    /// Loads the graph from storage and keeps it current in a background task; returns once loaded.
    func start(storage: any KeyValueStore, storagePrefix: String) async throws {
        try await mirror.start(storage: storage, storagePrefix: storagePrefix)
    }
}

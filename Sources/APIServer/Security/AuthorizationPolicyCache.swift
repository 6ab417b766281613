import APIMachinery
public import Authorization
import Logging
import NIOConcurrencyHelpers
import Storage

/// The RBAC objects in memory, kept current from storage by list + watch of the four rbac folders (as
/// upstream's authorizer reads informer caches), so an authorization check does no storage I/O.
///
/// `start` lists every folder at one revision, then watches each from that revision; a watch that fails
/// (compaction, a storage restart) relists and resumes. Every change swaps in a new `RBACSnapshot` and
/// tells `changes` listeners, which the ClusterRole aggregation loop uses.
public final class AuthorizationPolicyCache: Sendable {
    private let listeners: NIOLockedValueBox<[AsyncStream<Void>.Continuation]>
    private let mirror: StorageFolderMirror<Folder>

    /// The four folders and how a stored object enters and leaves the snapshot.
    enum Folder: String, MirroredFolder {
        case roles, rolebindings, clusterroles, clusterrolebindings

        func put(_ object: JSON, into snapshot: inout RBACSnapshot) {
            switch self {
            case .roles: snapshot.put(role: Role(json: object))
            case .clusterroles: snapshot.put(clusterRole: Role(json: object))
            case .rolebindings: snapshot.put(roleBinding: RoleBinding(json: object))
            case .clusterrolebindings: snapshot.put(clusterRoleBinding: RoleBinding(json: object))
            }
        }

        /// `relativeKey` is `<namespace>/<name>` for namespaced folders and `<name>` otherwise.
        func remove(relativeKey: Substring, from snapshot: inout RBACSnapshot) {
            let parts = relativeKey.split(separator: "/", maxSplits: 1).map(String.init)
            switch self {
            case .roles where parts.count == 2: snapshot.removeRole(namespace: parts[0], name: parts[1])
            case .rolebindings where parts.count == 2: snapshot.removeRoleBinding(namespace: parts[0], name: parts[1])
            case .clusterroles: snapshot.removeClusterRole(name: String(relativeKey))
            case .clusterrolebindings: snapshot.removeClusterRoleBinding(name: String(relativeKey))
            default: break
            }
        }
    }

    public init() {
        let listeners = NIOLockedValueBox<[AsyncStream<Void>.Continuation]>([])
        self.listeners = listeners
        mirror = StorageFolderMirror(empty: RBACSnapshot(), logger: Logger(label: "kube-apiserver.rbac")) {
            for listener in listeners.withLockedValue({ $0 }) { listener.yield() }
        }
    }

    /// The current policy; cheap (a copy-on-write value taken under a lock).
    public var snapshot: RBACSnapshot { mirror.value }

    /// Replaces the policy (tests and in-process tools that have no storage watch).
    public func replace(with snapshot: RBACSnapshot) { mirror.replace(with: snapshot) }

    /// A stream that yields after every change of the policy.
    public func changes() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        listeners.withLockedValue { $0.append(continuation) }
        return stream
    }

    /// Loads the policy from storage and keeps it current in a background task; returns once loaded.
    func start(storage: any KeyValueStore, storagePrefix: String) async throws {
        try await mirror.start(storage: storage, storagePrefix: storagePrefix)
    }
}

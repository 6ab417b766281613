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
    private let state = NIOLockedValueBox(RBACSnapshot())
    private let listeners = NIOLockedValueBox<[AsyncStream<Void>.Continuation]>([])
    private let logger = Logger(label: "kube-apiserver.rbac")

    /// The four folders and how a stored object enters and leaves the snapshot.
    enum Folder: String, CaseIterable, Sendable {
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

    public init() {}

    /// The current policy; cheap (a copy-on-write value taken under a lock).
    public var snapshot: RBACSnapshot { state.withLockedValue { $0 } }

    /// Replaces the policy (tests and in-process tools that have no storage watch).
    public func replace(with snapshot: RBACSnapshot) {
        state.withLockedValue { $0 = snapshot }
        notify()
    }

    /// A stream that yields after every change of the policy.
    public func changes() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        listeners.withLockedValue { $0.append(continuation) }
        return stream
    }

    private func notify() {
        for listener in listeners.withLockedValue({ $0 }) { listener.yield() }
    }

    /// Loads the policy from storage and keeps it current in a background task; returns once loaded.
    func start(storage: any KeyValueStore, storagePrefix: String) async throws {
        let revision = try await load(storage: storage, storagePrefix: storagePrefix)
        Task { [self] in await follow(storage: storage, storagePrefix: storagePrefix, from: revision) }
    }

    /// Lists the four folders at one revision into a fresh snapshot.
    private func load(storage: any KeyValueStore, storagePrefix: String) async throws -> Revision {
        var snapshot = RBACSnapshot()
        var revision: Revision?
        for folder in Folder.allCases {
            let prefix = storagePrefix + "/" + folder.rawValue + "/"
            let result = try await storage.range(
                start: prefix, end: RegistryStore.prefixEnd(prefix), limit: 0, revision: revision)
            revision = result.revision
            for item in result.items {
                guard let object = try? JSON.parse(item.value) else { continue }
                folder.put(object, into: &snapshot)
            }
        }
        state.withLockedValue { $0 = snapshot }
        notify()
        return revision ?? 0
    }

    /// Watches every folder from `revision`; on any failure, relists and starts again.
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
                            logger.warning("RBAC watch of \(prefix) ended: \(error); relisting")
                        }
                    }
                }
                // The first watch to end ends them all, so the relist below sees one consistent revision.
                await group.next()
                group.cancelAll()
            }
            if Task.isCancelled { return }
            do {
                try await Task.sleep(for: .milliseconds(200))
                revision = try await load(storage: storage, storagePrefix: storagePrefix)
            } catch {
                logger.error("RBAC relist failed: \(error)")
            }
        }
    }

    private func apply(_ event: WatchEvent, folder: Folder, prefix: String) {
        state.withLockedValue { snapshot in
            switch event.kind {
            case .put:
                guard let object = try? JSON.parse(event.current.value) else { return }
                folder.put(object, into: &snapshot)
            case .delete:
                folder.remove(relativeKey: event.current.key.dropFirst(prefix.count), from: &snapshot)
            }
        }
        notify()
    }
}

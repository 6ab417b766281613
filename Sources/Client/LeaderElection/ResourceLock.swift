import APIMachinery
public import Logging
import NIOConcurrencyHelpers

/// The object leader election competes for, as client-go's `resourcelock.Interface`: the elector reads,
/// creates and updates one record through it and never learns which kind holds it.
public protocol ResourceLock: Sendable, CustomStringConvertible {
    /// The current record, or nil when the lock object does not exist yet.
    func get() async throws -> LeaderElectionRecord?
    /// Creates the lock object holding `record`; fails if someone created it first.
    func create(_ record: LeaderElectionRecord) async throws
    /// Writes `record` over the version last read or written, so a change by anyone else in between
    /// makes it fail (409) instead of being overwritten.
    func update(_ record: LeaderElectionRecord) async throws
    /// The lock object, for the "became leader" and "stopped leading" events; nil records none.
    var eventSubject: ObjectReference? { get }
}

extension ResourceLock {
    public var eventSubject: ObjectReference? { nil }
}

/// Why a lock cannot be used.
public enum ResourceLockError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `update` before any `get` or `create` told the lock which version to write over.
    case notInitialized(String)
    /// `--leader-elect-resource-lock` named a lock type nobody knows.
    case invalidLockType(String)

    public var description: String {
        switch self {
        case .notInitialized(let lock): return "lease not initialized, call get or create first (\(lock))"
        case .invalidLockType(let name): return "Invalid lock-type \(name)"
        }
    }
}

/// A `coordination.k8s.io/v1` Lease as the lock, the only kind upstream still supports.
public final class LeaseLock: ResourceLock {
    /// The Lease's namespace.
    public let namespace: String
    /// The Lease's name.
    public let name: String
    private let client: RESTClient
    /// The Lease as last read or written: its resourceVersion makes the next update conditional.
    private let lease = NIOLockedValueBox<JSON?>(nil)

    public init(namespace: String, name: String, client: RESTClient) {
        self.namespace = namespace
        self.name = name
        self.client = client
    }

    /// `namespace/name`, as upstream's `Describe`.
    public var description: String { "\(namespace)/\(name)" }

    private var path: String {
        ResourcePath.path(
            group: "coordination.k8s.io", version: "v1", namespace: namespace, resource: "leases", name: name)
    }

    public var eventSubject: ObjectReference? {
        ObjectReference(
            apiVersion: "coordination.k8s.io/v1", kind: "Lease", name: name, namespace: namespace,
            uid: lease.withLockedValue { $0?[path: "metadata", "uid"]?.stringValue })
    }

    public func get() async throws -> LeaderElectionRecord? {
        let object: JSON
        do {
            object = try await client.getJSON(path: path)
        } catch let error as StatusError where error.code == 404 {
            return nil
        }
        lease.withLockedValue { $0 = object }
        return LeaderElectionRecord(leaseSpec: object["spec"])
    }

    public func create(_ record: LeaderElectionRecord) async throws {
        let object: JSON = [
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": ["name": .string(name), "namespace": .string(namespace)], "spec": record.leaseSpec,
        ]
        let created = try await client.postJSON(
            path: ResourcePath.path(
                group: "coordination.k8s.io", version: "v1", namespace: namespace, resource: "leases"),
            object)
        lease.withLockedValue { $0 = created }
    }

    public func update(_ record: LeaderElectionRecord) async throws {
        guard var object = lease.withLockedValue({ $0 }) else { throw ResourceLockError.notInitialized(description) }
        object["spec"] = record.leaseSpec
        let updated = try await client.putJSON(path: path, object)
        lease.withLockedValue { $0 = updated }
    }
}

/// The lock types `--leader-elect-resource-lock` names.
public enum ResourceLockType {
    /// The one type upstream still supports.
    public static let leases = "leases"
    /// Types upstream removed in favour of leases; older guides still pass them.
    static let removed: Set<String> = ["endpoints", "configmaps", "endpointsleases", "configmapsleases"]

    /// The lock `type` names, for `namespace/name`. The removed types become a Lease of the same name
    /// (with a warning), since a Lease is what upstream's migration ended on; anything else is an error.
    public static func lock(
        type: String, namespace: String, name: String, client: RESTClient,
        logger: Logger = Logger(label: "kubeswift.leaderelection")
    ) throws(ResourceLockError) -> any ResourceLock {
        if removed.contains(type) {
            logger.warning(
                "resource lock type \"\(type)\" was removed upstream; using \"\(leases)\" for \(namespace)/\(name)")
        } else if type != leases {
            throw .invalidLockType(type)
        }
        return LeaseLock(namespace: namespace, name: name, client: client)
    }
}

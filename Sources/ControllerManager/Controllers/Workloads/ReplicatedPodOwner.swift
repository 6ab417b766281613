public import APIMachinery
public import Client

/// The status fields a replica set and a replication controller share.
public struct ReplicaCounts: Sendable, Hashable {
    public var replicas: Int32 = 0
    public var fullyLabeledReplicas: Int32 = 0
    public var readyReplicas: Int32 = 0
    public var availableReplicas: Int32 = 0
    public var observedGeneration: Int64 = 0

    public init() {}
}

/// The `ReplicaFailure` condition both kinds carry while pods cannot be created or deleted.
public struct ReplicaFailure: Sendable, Hashable {
    public var reason: String
    public var message: String
    public var lastTransitionTime: String?

    public init(reason: String, message: String, lastTransitionTime: String?) {
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
    }
}

/// What the replica set controller needs of the kind it manages, so one implementation serves ReplicaSets
/// and ReplicationControllers (whose selector is a plain label map), as upstream's replication manager
/// reuses the replica set controller.
public protocol ReplicatedPodOwner: KubernetesObject {
    /// The queue's name for metrics (`replicaset`, `replicationmanager`).
    static var queueName: String { get }
    /// `spec.replicas`, defaulted to 1.
    var desiredReplicas: Int { get }
    var minReadySeconds: Int { get }
    /// The pods it selects; nil when the selector selects nothing (absent or invalid).
    var podSelector: LabelSelector? { get }
    var podTemplate: PodTemplateSpec? { get }
    var counts: ReplicaCounts { get set }
    var failure: ReplicaFailure? { get set }
}

extension ReplicaSet: ReplicatedPodOwner {
    public static var queueName: String { "replicaset" }
    public var desiredReplicas: Int { Int(spec.replicas ?? 1) }
    public var minReadySeconds: Int { Int(spec.minReadySeconds ?? 0) }
    public var podSelector: LabelSelector? { try? spec.selector?.labelSelector() }
    public var podTemplate: PodTemplateSpec? { spec.template }

    public var counts: ReplicaCounts {
        get {
            var counts = ReplicaCounts()
            counts.replicas = status.replicas ?? 0
            counts.fullyLabeledReplicas = status.fullyLabeledReplicas ?? 0
            counts.readyReplicas = status.readyReplicas ?? 0
            counts.availableReplicas = status.availableReplicas ?? 0
            counts.observedGeneration = status.observedGeneration ?? 0
            return counts
        }
        set {
            status.replicas = newValue.replicas
            status.fullyLabeledReplicas = newValue.fullyLabeledReplicas
            status.readyReplicas = newValue.readyReplicas
            status.availableReplicas = newValue.availableReplicas
            status.observedGeneration = newValue.observedGeneration
        }
    }

    public var failure: ReplicaFailure? {
        get {
            status.conditions.first { $0.type == ReplicaFailure.type }.map {
                ReplicaFailure(
                    reason: $0.reason ?? "", message: $0.message ?? "", lastTransitionTime: $0.lastTransitionTime)
            }
        }
        set {
            status.conditions.removeAll { $0.type == ReplicaFailure.type }
            if let newValue {
                status.conditions.append(
                    ReplicaSetCondition(
                        type: ReplicaFailure.type, status: "True", lastTransitionTime: newValue.lastTransitionTime,
                        message: newValue.message, reason: newValue.reason))
            }
        }
    }
}

extension ReplicationController: ReplicatedPodOwner {
    public static var queueName: String { "replicationmanager" }
    public var desiredReplicas: Int { Int(spec.replicas ?? 1) }
    public var minReadySeconds: Int { Int(spec.minReadySeconds ?? 0) }
    public var podSelector: LabelSelector? {
        // A plain map: every pair must match, and an empty map selects everything, as upstream's.
        LabelSelector(requirements: spec.selector.sorted { $0.key < $1.key }.map { .equals($0.key, $0.value) })
    }
    public var podTemplate: PodTemplateSpec? { spec.template }

    public var counts: ReplicaCounts {
        get {
            var counts = ReplicaCounts()
            counts.replicas = status.replicas ?? 0
            counts.fullyLabeledReplicas = status.fullyLabeledReplicas ?? 0
            counts.readyReplicas = status.readyReplicas ?? 0
            counts.availableReplicas = status.availableReplicas ?? 0
            counts.observedGeneration = status.observedGeneration ?? 0
            return counts
        }
        set {
            status.replicas = newValue.replicas
            status.fullyLabeledReplicas = newValue.fullyLabeledReplicas
            status.readyReplicas = newValue.readyReplicas
            status.availableReplicas = newValue.availableReplicas
            status.observedGeneration = newValue.observedGeneration
        }
    }

    public var failure: ReplicaFailure? {
        get {
            status.conditions.first { $0.type == ReplicaFailure.type }.map {
                ReplicaFailure(
                    reason: $0.reason ?? "", message: $0.message ?? "", lastTransitionTime: $0.lastTransitionTime)
            }
        }
        set {
            status.conditions.removeAll { $0.type == ReplicaFailure.type }
            if let newValue {
                status.conditions.append(
                    ReplicationControllerCondition(
                        type: ReplicaFailure.type, status: "True", lastTransitionTime: newValue.lastTransitionTime,
                        message: newValue.message, reason: newValue.reason))
            }
        }
    }
}

extension ReplicaFailure {
    /// The condition type, the same for both kinds.
    public static let type = "ReplicaFailure"
}

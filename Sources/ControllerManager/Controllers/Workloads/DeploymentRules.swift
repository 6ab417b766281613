public import Client

/// Upstream's `deployment/util` decisions as pure functions: surge and unavailability, revisions, sizes and
/// the progress predicates, so unit tests call them directly.
public enum DeploymentRules {
    public static let revisionAnnotation = "deployment.kubernetes.io/revision"
    public static let revisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
    public static let desiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
    public static let maxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"
    /// apps/v1's stand-in for the removed `spec.rollbackTo` (upstream's `DeprecatedRollbackTo`).
    public static let rollbackToAnnotation = "deprecated.deployment.rollback.to"
    /// Annotations a Deployment does not copy to its ReplicaSets (nor back on rollback).
    static let uncopiedAnnotations: Set<String> = [
        "kubectl.kubernetes.io/last-applied-configuration", revisionAnnotation, revisionHistoryAnnotation,
        desiredReplicasAnnotation, maxReplicasAnnotation, rollbackToAnnotation,
    ]
    /// `progressDeadlineSeconds` of this value means no deadline.
    static let noProgressDeadline = Int32.max

    /// Upstream's `ResolveFenceposts`: maxSurge of `desired` rounded up, maxUnavailable rounded down, and
    /// maxUnavailable 1 when both come to zero so a rollout can always move.
    public static func resolveFenceposts(
        maxSurge: IntOrString?, maxUnavailable: IntOrString?, desired: Int
    ) throws(IntOrStringError) -> (surge: Int, unavailable: Int) {
        let surge = try (maxSurge ?? .int(0)).scaledValue(total: desired, roundUp: true)
        let unavailable = try (maxUnavailable ?? .int(0)).scaledValue(total: desired, roundUp: false)
        if surge == 0 && unavailable == 0 { return (0, 1) }
        return (surge, unavailable)
    }

    static func isRollingUpdate(_ deployment: Deployment) -> Bool {
        (deployment.spec.strategy?.type ?? "RollingUpdate") == "RollingUpdate"
    }

    static func replicas(_ deployment: Deployment) -> Int { Int(deployment.spec.replicas ?? 1) }

    /// Pods allowed above `spec.replicas` during a rolling update (0 for Recreate).
    public static func maxSurge(_ deployment: Deployment) -> Int {
        guard isRollingUpdate(deployment) else { return 0 }
        let rolling = deployment.spec.strategy?.rollingUpdate
        let fenceposts = try? resolveFenceposts(
            maxSurge: rolling?.maxSurge ?? .string("25%"), maxUnavailable: rolling?.maxUnavailable ?? .string("25%"),
            desired: replicas(deployment))
        return fenceposts?.surge ?? 0
    }

    /// Pods allowed below `spec.replicas` during a rolling update, never more than `spec.replicas`.
    public static func maxUnavailable(_ deployment: Deployment) -> Int {
        let desired = replicas(deployment)
        guard isRollingUpdate(deployment), desired > 0 else { return 0 }
        let rolling = deployment.spec.strategy?.rollingUpdate
        let fenceposts = try? resolveFenceposts(
            maxSurge: rolling?.maxSurge ?? .string("25%"), maxUnavailable: rolling?.maxUnavailable ?? .string("25%"),
            desired: desired)
        return min(fenceposts?.unavailable ?? 0, desired)
    }

    /// The revision a ReplicaSet's annotation records (0 when absent or malformed).
    public static func revision(_ replicaSet: ReplicaSet) -> Int64 {
        replicaSet.metadata.annotations[revisionAnnotation].flatMap { Int64($0) } ?? 0
    }

    static func maxRevision(_ replicaSets: [ReplicaSet]) -> Int64 { replicaSets.map(revision).max() ?? 0 }

    /// The second-highest revision (the one `rollout undo` without `--to-revision` goes back to).
    static func lastRevision(_ replicaSets: [ReplicaSet]) -> Int64 {
        var highest: Int64 = 0
        var second: Int64 = 0
        for value in replicaSets.map(revision) {
            if value >= highest {
                second = highest
                highest = value
            } else if value > second {
                second = value
            }
        }
        return second
    }

    /// Two pod templates are the same revision when they differ at most in the `pod-template-hash` label.
    public static func equalIgnoringHash(_ a: PodTemplateSpec?, _ b: PodTemplateSpec?) -> Bool {
        func stripped(_ template: PodTemplateSpec?) -> PodTemplateSpec {
            var copy = template ?? PodTemplateSpec()
            var metadata = copy.metadata ?? ObjectMeta()
            metadata.labels[PodTemplateHash.labelKey] = nil
            copy.metadata = metadata
            return copy
        }
        return stripped(a) == stripped(b)
    }

    /// The size of the new ReplicaSet for this pass: Recreate jumps to `spec.replicas`; RollingUpdate grows
    /// it only as far as the surge allowance over every ReplicaSet's replicas lets it.
    public static func newReplicaSetReplicas(_ deployment: Deployment, all: [ReplicaSet], new: ReplicaSet) -> Int {
        let desired = replicas(deployment)
        let current = Int(new.spec.replicas ?? 0)
        guard isRollingUpdate(deployment) else { return desired }
        let total = all.reduce(0) { $0 + Int($1.spec.replicas ?? 0) }
        let maxTotal = desired + maxSurge(deployment)
        if total >= maxTotal { return current }
        return current + min(maxTotal - total, max(0, desired - current))
    }

    /// The new ReplicaSet runs every replica, all available, as its annotation says it should.
    static func isSaturated(_ deployment: Deployment, _ replicaSet: ReplicaSet?) -> Bool {
        guard let replicaSet,
            let desired = replicaSet.metadata.annotations[desiredReplicasAnnotation].flatMap({ Int32($0) })
        else { return false }
        let wanted = deployment.spec.replicas ?? 1
        return replicaSet.spec.replicas == wanted && desired == wanted
            && (replicaSet.status.availableReplicas ?? 0) == wanted
    }

    /// How many of `toAdd` replicas (negative: to remove) a ReplicaSet takes in a proportional scale, as
    /// upstream's `GetProportion`: its share by the size the Deployment had when it was last annotated.
    static func proportion(_ replicaSet: ReplicaSet, _ deployment: Deployment, toAdd: Int, added: Int) -> Int {
        let size = Int(replicaSet.spec.replicas ?? 0)
        guard size != 0, toAdd != 0, toAdd != added else { return 0 }
        let fraction: Int
        let desired = replicas(deployment)
        if desired == 0 {
            fraction = -size
        } else {
            let deploymentReplicas = desired + maxSurge(deployment)
            let annotated =
                replicaSet.metadata.annotations[maxReplicasAnnotation].flatMap { Int($0) }
                ?? Int(deployment.status.replicas ?? 0)
            let scaled = annotated == 0 ? 0 : (Double(size * deploymentReplicas) / Double(annotated)).rounded()
            fraction = Int(scaled) - size
        }
        let allowed = toAdd - added
        return toAdd > 0 ? min(fraction, allowed) : max(fraction, allowed)
    }

    /// Every replica updated, present and available, for the current generation.
    public static func isComplete(_ deployment: Deployment, _ status: DeploymentStatus) -> Bool {
        let desired = deployment.spec.replicas ?? 1
        return status.updatedReplicas ?? 0 == desired && status.replicas ?? 0 == desired
            && status.availableReplicas ?? 0 == desired
            && status.observedGeneration ?? 0 >= deployment.metadata.generation ?? 0
    }

    /// The rollout moved since the last status: more updated, fewer old, more ready or more available pods.
    public static func isProgressing(_ deployment: Deployment, _ status: DeploymentStatus) -> Bool {
        let old = deployment.status
        let oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0)
        let newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0)
        return status.updatedReplicas ?? 0 > old.updatedReplicas ?? 0 || newOld < oldOld
            || status.readyReplicas ?? 0 > old.readyReplicas ?? 0
            || status.availableReplicas ?? 0 > old.availableReplicas ?? 0
    }

    static func hasProgressDeadline(_ deployment: Deployment) -> Bool {
        guard let deadline = deployment.spec.progressDeadlineSeconds else { return false }
        return deadline != noProgressDeadline
    }

    /// Whether `creationTimestamp` orders `a` before `b`, names breaking ties (upstream's
    /// `ReplicaSetsByCreationTimestamp`); timestamps compare as RFC 3339 text, which sorts by time in UTC.
    static func olderFirst(_ a: ReplicaSet, _ b: ReplicaSet) -> Bool {
        let createdA = a.metadata.creationTimestamp ?? ""
        let createdB = b.metadata.creationTimestamp ?? ""
        if createdA == createdB { return (a.metadata.name ?? "") < (b.metadata.name ?? "") }
        return createdA < createdB
    }
}

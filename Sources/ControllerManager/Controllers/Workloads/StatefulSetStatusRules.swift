import APIMachinery
public import Client

/// Upstream's stateful set status computation: counts of created, ready, available, current and updated
/// pods, the two revisions, and the rollout's completion (the update revision becoming current).
public enum StatefulSetStatusRules {
    /// The status `set` has with `pods` (its claimed and newly created pods) at `now` (epoch seconds).
    static func status(
        _ set: StatefulSet, pods: [Pod], revisions: StatefulSetRevisions, collisionCount: Int32?, now: Int64
    ) -> StatefulSetStatus {
        status(
            set, pods: pods, currentRevision: revisions.current.metadata.name ?? "",
            updateRevision: revisions.update.metadata.name ?? "", collisionCount: collisionCount, now: now)
    }

    /// The status from revision names, for tests.
    public static func status(
        _ set: StatefulSet, pods: [Pod], currentRevision: String, updateRevision: String, collisionCount: Int32?,
        now: Int64
    ) -> StatefulSetStatus {
        var status = set.status
        status.observedGeneration = set.metadata.generation
        status.collisionCount = collisionCount
        status.currentRevision = currentRevision
        status.updateRevision = updateRevision
        var replicas: Int32 = 0
        var ready: Int32 = 0
        var available: Int32 = 0
        var current: Int32 = 0
        var updated: Int32 = 0
        let minReady = Int(set.spec.minReadySeconds ?? 0)
        for pod in pods {
            // Upstream counts a pod once it has a phase (`isCreated`); the API server sets Pending on create.
            let isCreated = !(pod.status.phase ?? "").isEmpty
            if isCreated { replicas += 1 }
            if StatefulSetIdentity.isRunningAndReady(pod) {
                ready += 1
                if PodAvailability.isAvailable(pod, minReadySeconds: minReady, now: now) { available += 1 }
            }
            guard isCreated, !pod.metadata.isDeleting else { continue }
            let revision = pod.metadata.labels[StatefulSetIdentity.revisionLabel]
            if revision == currentRevision { current += 1 }
            if revision == updateRevision { updated += 1 }
        }
        status.replicas = replicas
        status.readyReplicas = ready
        status.availableReplicas = available
        status.currentReplicas = current
        status.updatedReplicas = updated
        let desired = Int32(StatefulSetIdentity.replicas(set))
        if StatefulSetIdentity.isRollingUpdate(set), updated == desired, ready == desired, replicas == desired {
            // The rollout is complete: the update revision is now the current one.
            status.currentRevision = updateRevision
            status.currentReplicas = updated
        }
        return status
    }
}

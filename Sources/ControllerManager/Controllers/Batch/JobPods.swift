import APIMachinery
public import Client

/// Upstream's Job vocabulary and the pure decisions about a Job's pods: which are active, failed or
/// terminating, their completion indexes, and how a pod failure policy judges a failed pod.
public enum JobPods {
    /// The finalizer that keeps a pod until the Job has counted it in its status.
    public static let trackingFinalizer = "batch.kubernetes.io/job-tracking"
    /// Annotation and label holding an Indexed Job pod's completion index.
    public static let completionIndexKey = "batch.kubernetes.io/job-completion-index"
    public static let controllerUIDLabel = "batch.kubernetes.io/controller-uid"
    public static let jobNameLabel = "batch.kubernetes.io/job-name"
    /// The labels upstream also writes without the prefix, for older selectors.
    public static let legacyControllerUIDLabel = "controller-uid"
    public static let legacyJobNameLabel = "job-name"
    /// Upstream's cap on pods created or deleted in one sync.
    public static let maxPodCreateDeletePerSync = 500
    /// Upstream's cap on UIDs in `status.uncountedTerminatedPods`.
    public static let maxUncountedPods = 500

    /// The condition marking `job` finished (`Complete` or `Failed`, status True), if any.
    public static func finishedCondition(_ job: Job) -> JobCondition? {
        job.status.conditions.first { ($0.type == "Complete" || $0.type == "Failed") && $0.status == "True" }
    }

    /// Whether `job` has condition `type` with status True.
    public static func hasCondition(_ job: Job, _ type: String) -> Bool {
        job.status.conditions.contains { $0.type == type && $0.status == "True" }
    }

    /// Whether `pod` still counts toward parallelism: not finished and not being deleted.
    public static func isActive(_ pod: Pod) -> Bool {
        pod.status.phase != "Succeeded" && pod.status.phase != "Failed" && pod.metadata.deletionTimestamp == nil
    }

    /// Being deleted but not yet finished (upstream's `status.terminating`).
    public static func isTerminating(_ pod: Pod) -> Bool {
        pod.metadata.deletionTimestamp != nil && pod.status.phase != "Succeeded" && pod.status.phase != "Failed"
    }

    public static func isReady(_ pod: Pod) -> Bool {
        pod.status.conditions.contains { $0.type == "Ready" && $0.status == "True" }
    }

    public static func hasTrackingFinalizer(_ pod: Pod) -> Bool {
        pod.metadata.finalizers.contains(trackingFinalizer)
    }

    /// Whether the Job replaces a pod only once it has failed, not already while it terminates.
    public static func onlyReplacesFailedPods(_ job: Job) -> Bool {
        job.spec.podReplacementPolicy == "Failed" || job.spec.podFailurePolicy != nil
    }

    /// Whether `pod` counts as failed for `job`: Failed, or (unless only failed pods are replaced) deleted
    /// before it succeeded, as an orphaned pod never reaches the Failed phase.
    public static func isFailed(_ pod: Pod, job: Job) -> Bool {
        if pod.status.phase == "Failed" { return true }
        if onlyReplacesFailedPods(job) { return false }
        return pod.metadata.deletionTimestamp != nil && pod.status.phase != "Succeeded"
    }

    /// An Indexed Job pod's completion index from its annotation (label as fallback); nil when absent or invalid.
    public static func completionIndex(_ pod: Pod) -> Int? {
        let text = pod.metadata.annotations[completionIndexKey] ?? pod.metadata.labels[completionIndexKey]
        guard let text, let index = Int(text), index >= 0 else { return nil }
        return index
    }

    public static func isIndexed(_ job: Job) -> Bool { job.spec.completionMode == "Indexed" }

    /// Whether the restarts of `OnFailure` pods reached the backoff limit (upstream counts them as failures).
    public static func pastBackoffLimitOnFailure(_ job: Job, pods: [Pod]) -> Bool {
        guard job.spec.template?.spec?.restartPolicy == "OnFailure" else { return false }
        let restarts = pods.filter { $0.status.phase == "Running" || $0.status.phase == "Pending" }
            .flatMap { $0.status.initContainerStatuses + $0.status.containerStatuses }
            .reduce(0) { $0 + Int($1.restartCount ?? 0) }
        let limit = Int(job.spec.backoffLimit ?? 6)
        return limit == 0 ? restarts > 0 : restarts >= limit
    }

    /// Active pods in the order upstream deletes them: unscheduled before scheduled, pending before running,
    /// not ready before ready, newer before older.
    public static func deletionOrder(_ pods: [Pod]) -> [Pod] {
        func rank(_ pod: Pod) -> (Int, Int, Int) {
            let scheduled = (pod.spec.nodeName ?? "").isEmpty ? 0 : 1
            let phase = ["Pending": 0, "Unknown": 1, "Running": 2][pod.status.phase ?? "Pending"] ?? 0
            return (scheduled, phase, isReady(pod) ? 1 : 0)
        }
        return pods.sorted { lhs, rhs in
            let (left, right) = (rank(lhs), rank(rhs))
            if left != right { return left < right }
            let leftCreated = Timestamp.parse(lhs.metadata.creationTimestamp ?? "") ?? 0
            let rightCreated = Timestamp.parse(rhs.metadata.creationTimestamp ?? "") ?? 0
            if leftCreated != rightCreated { return leftCreated > rightCreated }
            return (lhs.metadata.name ?? "") < (rhs.metadata.name ?? "")
        }
    }

    /// Of an Indexed Job's active pods, those to delete whatever the counts: pods without a valid index and
    /// all but one pod of each index.
    public static func duplicatedIndexPods(_ pods: [Pod], completions: Int) -> [Pod] {
        var remove: [Pod] = []
        var byIndex: [Int: [Pod]] = [:]
        for pod in pods {
            guard let index = completionIndex(pod), index < completions else {
                remove.append(pod)
                continue
            }
            byIndex[index, default: []].append(pod)
        }
        for index in byIndex.keys.sorted() {
            guard let group = byIndex[index], group.count > 1 else { continue }
            // Keep the one furthest along; delete the rest.
            remove += deletionOrder(group).dropLast()
        }
        return remove
    }

    /// The lowest `count` indexes below `completions` that neither succeeded nor have an active pod.
    public static func pendingIndexes(
        count: Int, completions: Int, succeeded: CompletionIndexes, active: [Pod]
    ) -> [Int] {
        let taken = Set(active.compactMap(completionIndex))
        var result: [Int] = []
        var index = 0
        while result.count < count, index < completions {
            if !succeeded.contains(index), !taken.contains(index) { result.append(index) }
            index += 1
        }
        return result
    }

    /// The pod name prefix for index `index`: `<job>-<index>-`, the job's name trimmed to keep it valid.
    public static func generateName(job: String, index: Int) -> String {
        let suffix = "-\(index)-"
        return String(job.prefix(max(0, 63 - 5 - suffix.count))) + suffix
    }
}

import APIMachinery
public import Client

/// Upstream's pod predicates the workload controllers share (`IsPodActive`, `IsPodReady`, `IsPodAvailable`).
public enum PodAvailability {
    /// Counts toward a controller's replicas: not finished and not being deleted.
    public static func isActive(_ pod: Pod) -> Bool {
        pod.status.phase != "Succeeded" && pod.status.phase != "Failed" && pod.metadata.deletionTimestamp == nil
    }

    /// The pod's `Ready` condition is `True`.
    public static func isReady(_ pod: Pod) -> Bool {
        readyCondition(pod)?.status == "True"
    }

    /// Seconds since the epoch at which the pod last became ready; nil when it is not ready or never said when.
    public static func readySince(_ pod: Pod) -> Int64? {
        guard let condition = readyCondition(pod), condition.status == "True" else { return nil }
        return condition.lastTransitionTime.flatMap(Timestamp.parse)
    }

    /// Ready for at least `minReadySeconds` by `now` (seconds since the epoch), as upstream's `IsPodAvailable`.
    public static func isAvailable(_ pod: Pod, minReadySeconds: Int, now: Int64) -> Bool {
        guard let condition = readyCondition(pod), condition.status == "True" else { return false }
        if minReadySeconds == 0 { return true }
        guard let since = condition.lastTransitionTime.flatMap(Timestamp.parse) else { return false }
        return since + Int64(minReadySeconds) < now
    }

    private static func readyCondition(_ pod: Pod) -> PodCondition? {
        pod.status.conditions.first { $0.type == "Ready" }
    }
}

import Client

/// When a pod on a node with NoExecute taints must go, as upstream's taint eviction controller decides it
/// (`processPodOnNode`): kept pure so the timing is tested without a cluster.
enum TaintEvictionPlan: Sendable, Equatable {
    /// No NoExecute taint, or only tolerated forever: any scheduled deletion is cancelled.
    case cancel
    /// Some taint is not tolerated: delete now.
    case deleteNow
    /// Every taint is tolerated for a while: delete at `fireAt`, counting from `createdAt`.
    case schedule(createdAt: ContinuousClock.Instant, fireAt: ContinuousClock.Instant)
    /// A deletion is already scheduled: leave it.
    case keep

    /// Upstream's `GetMatchingTolerations`: the toleration used for each taint, or nil when some taint is not
    /// tolerated.
    static func matchingTolerations(taints: [Taint], tolerations: [Toleration]) -> [Toleration]? {
        var used: [Toleration] = []
        for taint in taints {
            guard let toleration = tolerations.first(where: { $0.tolerates(taint) }) else { return nil }
            used.append(toleration)
        }
        return used
    }

    /// Upstream's `getMinTolerationTime`: the shortest `tolerationSeconds` among `tolerations` (zero for a
    /// non-positive one, or when no toleration was needed), nil when all of them tolerate forever.
    static func minTolerationTime(_ tolerations: [Toleration]) -> Duration? {
        guard !tolerations.isEmpty else { return .zero }
        let limits = tolerations.compactMap(\.tolerationSeconds)
        guard let shortest = limits.min() else { return nil }
        return .seconds(max(0, shortest))
    }

    /// The plan for a pod with `tolerations` on a node with NoExecute `taints` at `now`, given when the deletion
    /// already scheduled for it was scheduled, if one is.
    static func plan(
        taints: [Taint], tolerations: [Toleration], now: ContinuousClock.Instant,
        scheduledSince: ContinuousClock.Instant?
    ) -> TaintEvictionPlan {
        guard !taints.isEmpty else { return .cancel }
        guard let used = matchingTolerations(taints: taints, tolerations: tolerations) else { return .deleteNow }
        guard let wait = minTolerationTime(used) else { return .cancel }
        // A deletion scheduled earlier stands, as upstream keeps its timer: its clock runs from when the pod was
        // first found tolerating.
        if let scheduledSince, scheduledSince < now { return .keep }
        return .schedule(createdAt: scheduledSince ?? now, fireAt: now.advanced(by: wait))
    }
}

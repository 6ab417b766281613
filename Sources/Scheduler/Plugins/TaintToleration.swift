public import Client

/// Rejects nodes with NoSchedule or NoExecute taints the pod does not tolerate, and prefers nodes with
/// fewer untolerated PreferNoSchedule taints.
struct TaintToleration: FilterPlugin, ScorePlugin {
    let name = "TaintToleration"
    let clusterEvents: Set<ClusterEvent> = [.nodeAdd, .nodeUpdate]

    func filter(state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        let taints = node.taints
        if taints.isEmpty { return .success }
        let tolerations = pod.pod.spec.tolerations
        for taint in taints where taint.effect == "NoSchedule" || taint.effect == "NoExecute" {
            if !tolerations.contains(where: { $0.tolerates(taint) }) {
                return .unresolvable("node(s) had untolerated taint {\(taint.key ?? ""): \(taint.value ?? "")}")
            }
        }
        return .success
    }

    func score(state: CycleState, pod: PodInfo, node: NodeInfo) -> Int64 {
        let taints = node.taints
        guard taints.contains(where: { $0.effect == "PreferNoSchedule" }) else { return 0 }
        let tolerations = pod.pod.spec.tolerations.filter {
            ($0.effect ?? "").isEmpty || $0.effect == "PreferNoSchedule"
        }
        var count: Int64 = 0
        for taint in taints where taint.effect == "PreferNoSchedule" {
            if !tolerations.contains(where: { $0.tolerates(taint) }) { count += 1 }
        }
        return count
    }

    func normalize(state: CycleState, pod: PodInfo, scores: inout [Int64]) {
        normalizeScores(&scores, reverse: true)
    }
}

extension Toleration {
    /// Upstream's `ToleratesTaint`: the effect matches (or is empty), and the key and value match as the
    /// operator says (`Exists` with no key tolerates everything).
    public func tolerates(_ taint: Taint) -> Bool {
        if let effect, !effect.isEmpty, effect != taint.effect { return false }
        let key = self.key ?? ""
        if !key.isEmpty && key != taint.key { return false }
        switch `operator` ?? "Equal" {
        case "Exists": return true
        case "Equal", "": return (value ?? "") == (taint.value ?? "")
        default: return false
        }
    }
}

/// Upstream's `DefaultNormalizeScore`: scales scores so the highest becomes `maxNodeScore`, reversed when
/// fewer is better; all-zero scores stay zero (or become the maximum when reversed).
func normalizeScores(_ scores: inout [Int64], reverse: Bool) {
    let highest = scores.max() ?? 0
    if highest == 0 {
        if reverse { scores = scores.map { _ in maxNodeScore } }
        return
    }
    for index in scores.indices {
        let scaled = maxNodeScore * scores[index] / highest
        scores[index] = reverse ? maxNodeScore - scaled : scaled
    }
}

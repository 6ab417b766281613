import APIMachinery

/// Prefers nodes whose CPU and memory would stay equally used, so no resource strands another.
struct NodeResourcesBalancedAllocation: PreScorePlugin, ScorePlugin {
    let name = "NodeResourcesBalancedAllocation"
    let clusterEvents: Set<ClusterEvent> = []
    let scorer: ResourceAllocationScorer

    init(args: JSON?) {
        var resources: [(String, Int64)] = []
        for item in args?["resources"]?.arrayValue ?? [] {
            if let name = item["name"]?.stringValue { resources.append((name, item["weight"]?.intValue ?? 1)) }
        }
        if resources.isEmpty { resources = [("cpu", 1), ("memory", 1)] }
        scorer = ResourceAllocationScorer(resources: resources, useRequested: true, score: .balanced)
    }

    /// Best-effort pods change no balance: skip scoring them, as upstream.
    func preScore(state: CycleState, pod: PodInfo, nodes: [NodeInfo]) -> PluginStatus {
        requestsAny(pod) ? .success : .skip
    }

    func score(state: CycleState, pod: PodInfo, node: NodeInfo) -> Int64 {
        // Asked of the pod rather than read from the cycle state: Score runs per node on every worker.
        guard requestsAny(pod) else { return 0 }
        return scorer.score(pod: pod, node: node)
    }

    private func requestsAny(_ pod: PodInfo) -> Bool { scorer.requestsAny(pod) }
}

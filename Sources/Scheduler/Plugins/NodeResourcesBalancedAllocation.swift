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
        let requested = scorer.resources.contains { pod.requests.amount(of: $0.name) > 0 }
        state.write(BalancedSkip(skip: !requested))
        return .success
    }

    func score(state: CycleState, pod: PodInfo, node: NodeInfo) -> Int64 {
        if state.read(BalancedSkip.self)?.skip == true { return 0 }
        return scorer.score(pod: pod, node: node)
    }

    private struct BalancedSkip: Sendable {
        var skip: Bool
    }
}

import Foundation

/// Scoring: per `ScheduleAnyway` constraint, a node scores its domain's matching pods times a weight that
/// grows with the number of domains (log(domains + 2)), plus maxSkew - 1; fewer is better after
/// normalisation. Nodes missing a topology label are left out (they score 0).
extension PodTopologySpread {
    struct ScoreState: Sendable {
        var constraints: [SpreadConstraint]
        var ignored: Set<String> = []
        /// Matching pods per domain (hostname domains are counted in Score from the node itself).
        var counts: [TopologyPair: Int64] = [:]
        var weights: [Double] = []
    }

    /// A raw score for nodes scoring leaves out; normalisation turns it into 0.
    static let ignoredScore: Int64 = -1
    static let hostnameKey = "kubernetes.io/hostname"

    func preScore(state: CycleState, pod: PodInfo, nodes: [NodeInfo]) -> PluginStatus {
        let constraints: [SpreadConstraint]
        do {
            constraints = try self.constraints(of: pod.pod, action: "ScheduleAnyway")
        } catch {
            return .error("parsing pod topology spread constraints: \(error)")
        }
        guard !constraints.isEmpty else {
            state.write(ScoreState(constraints: []))
            return .skip
        }
        // System defaults apply to every node; explicit constraints only to nodes labelled with all keys.
        let requireAllTopologies = !pod.pod.spec.topologySpreadConstraints.isEmpty || !systemDefaulted
        var scoreState = ScoreState(constraints: constraints)
        var domainCounts = [Int](repeating: 0, count: constraints.count)
        for node in nodes {
            if requireAllTopologies && !SpreadConstraint.all(constraints, labelled: node.labels) {
                scoreState.ignored.insert(node.name)
                continue
            }
            for (index, constraint) in constraints.enumerated() where constraint.topologyKey != Self.hostnameKey {
                let pair = TopologyPair(
                    key: constraint.topologyKey, value: node.labels[constraint.topologyKey] ?? "")
                if scoreState.counts[pair] == nil {
                    scoreState.counts[pair] = 0
                    domainCounts[index] += 1
                }
            }
        }
        scoreState.weights = constraints.indices.map { index in
            let size =
                constraints[index].topologyKey == Self.hostnameKey
                ? nodes.count - scoreState.ignored.count : domainCounts[index]
            return log(Double(size + 2))
        }
        let allNodes = state.read(AllNodes.self)?.nodes ?? nodes
        for node in allNodes {
            if requireAllTopologies && !SpreadConstraint.all(constraints, labelled: node.labels) { continue }
            for constraint in constraints where constraint.includes(node, for: pod.pod) {
                let pair = TopologyPair(
                    key: constraint.topologyKey, value: node.labels[constraint.topologyKey] ?? "")
                // Only domains of candidate nodes matter; hostname domains are counted in Score.
                guard scoreState.counts[pair] != nil else { continue }
                scoreState.counts[pair, default: 0] += constraint.countMatching(node.pods, namespace: pod.namespace)
            }
        }
        state.write(scoreState)
        return .success
    }

    func score(state: CycleState, pod: PodInfo, node: NodeInfo) -> Int64 {
        state.read(ScoreState.self) { scoreState in Self.score(scoreState, pod: pod, node: node) } ?? 0
    }

    private static func score(_ scoreState: borrowing ScoreState, pod: PodInfo, node: NodeInfo) -> Int64 {
        if scoreState.constraints.isEmpty { return 0 }
        if scoreState.ignored.contains(node.name) { return Self.ignoredScore }
        var total = 0.0
        for (index, constraint) in scoreState.constraints.enumerated() {
            guard let value = node.labels[constraint.topologyKey] else { continue }
            let count =
                constraint.topologyKey == Self.hostnameKey
                ? constraint.countMatching(node.pods, namespace: pod.namespace)
                : scoreState.counts[TopologyPair(key: constraint.topologyKey, value: value)] ?? 0
            total += Double(count) * scoreState.weights[index] + Double(constraint.maxSkew - 1)
        }
        return Int64(total.rounded())
    }

    /// Fewer matching pods is better: `maxNodeScore * (max + min - score) / max`, every node at the maximum
    /// when all score 0, left-out nodes 0.
    func normalize(state: CycleState, pod: PodInfo, scores: inout [Int64]) {
        guard let scoreState = state.read(ScoreState.self), !scoreState.constraints.isEmpty else { return }
        let counted = scores.filter { $0 != Self.ignoredScore }
        guard let lowest = counted.min(), let highest = counted.max() else {
            scores = scores.map { _ in 0 }
            return
        }
        for index in scores.indices {
            if scores[index] == Self.ignoredScore {
                scores[index] = 0
            } else if highest == 0 {
                scores[index] = maxNodeScore
            } else {
                scores[index] = maxNodeScore * (highest + lowest - scores[index]) / highest
            }
        }
    }
}

import Client

/// Scoring: each domain collects the weights of preferred terms (the incoming pod's and existing pods')
/// that its pods satisfy, and existing pods' required affinity at `hardPodAffinityWeight`; a node scores
/// the sum over its domains, scaled between the lowest and highest node.
extension InterPodAffinity {
    /// Topology key → domain value → score.
    struct ScoreState: Sendable {
        var topologyScore: [String: [String: Int64]] = [:]

        mutating func add(_ term: AffinityTerm, on labels: [String: String], _ weight: Int64) {
            guard weight != 0, let pair = term.pair(on: labels) else { return }
            topologyScore[pair.key, default: [:]][pair.value, default: 0] += weight
        }
    }

    func preScore(state: CycleState, pod: PodInfo, nodes: [NodeInfo]) -> PluginStatus {
        guard let terms = try? PodAffinityTerms(pod.pod) else { return .error("parsing pod affinity terms") }
        let hasPreferred = !terms.preferredAffinity.isEmpty || !terms.preferredAntiAffinity.isEmpty
        if !hasPreferred, state.read(ClusterSummary.self)?.podsScoringOthers == 0 { return .skip }
        let allNodes = state.read(AllNodes.self)?.nodes ?? nodes
        let incomingLabels = handle.namespaceLabels(pod.namespace)
        var scoreState = ScoreState()
        let readsNamespaces = terms.readsNamespaceLabels
        for node in allNodes {
            // Without preferred terms of its own, only pods with affinity terms can score the pod.
            let others = hasPreferred ? node.pods : node.podsWithAffinity
            if others.isEmpty { continue }
            let labels = node.labels
            for other in others {
                // Without preferred terms of its own, only pods with scoring terms can score the pod (checked
                // before the terms are read: most such pods have required anti-affinity alone).
                if !hasPreferred && !other.scoresOthers { continue }
                let existing = other.affinityTerms
                let otherLabels = readsNamespaces ? handle.namespaceLabels(other.namespace) : nil
                for term in terms.preferredAffinity where term.matches(other.pod, namespaceLabels: otherLabels) {
                    scoreState.add(term, on: labels, term.weight)
                }
                for term in terms.preferredAntiAffinity where term.matches(other.pod, namespaceLabels: otherLabels) {
                    scoreState.add(term, on: labels, -term.weight)
                }
                guard let existing else { continue }
                if hardPodAffinityWeight > 0 {
                    for term in existing.requiredAffinity where term.matches(pod.pod, namespaceLabels: incomingLabels) {
                        scoreState.add(term, on: labels, hardPodAffinityWeight)
                    }
                }
                if ignorePreferredTermsOfExistingPods { continue }
                for term in existing.preferredAffinity where term.matches(pod.pod, namespaceLabels: incomingLabels) {
                    scoreState.add(term, on: labels, term.weight)
                }
                for term in existing.preferredAntiAffinity
                where term.matches(pod.pod, namespaceLabels: incomingLabels) {
                    scoreState.add(term, on: labels, -term.weight)
                }
            }
        }
        // Nothing scored anywhere: every node would score 0, so Score is skipped, as upstream.
        if scoreState.topologyScore.isEmpty { return .skip }
        state.write(scoreState)
        return .success
    }

    func score(state: CycleState, pod: PodInfo, node: NodeInfo) -> Int64 {
        let labels = node.labels
        return state.read(ScoreState.self) { scoreState in
            var total: Int64 = 0
            for (key, domains) in scoreState.topologyScore {
                if let value = labels[key] { total += domains[value] ?? 0 }
            }
            return total
        } ?? 0
    }

    /// Upstream's min-max scaling: the lowest node gets 0, the highest `maxNodeScore`.
    func normalize(state: CycleState, pod: PodInfo, scores: inout [Int64]) {
        guard let scoreState = state.read(ScoreState.self), !scoreState.topologyScore.isEmpty,
            let lowest = scores.min(), let highest = scores.max()
        else { return }
        let spread = highest - lowest
        for index in scores.indices {
            scores[index] =
                spread > 0 ? Int64(Double(maxNodeScore) * Double(scores[index] - lowest) / Double(spread)) : 0
        }
    }
}

import Client

/// Filters nodes by the pod's `nodeSelector` and required node affinity, and scores them by the weights of
/// the preferred terms they match.
struct NodeAffinity: PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
    let name = "NodeAffinity"
    let clusterEvents: Set<ClusterEvent> = [.nodeAdd, .nodeUpdate]
    static let mismatch = "node(s) didn't match Pod's node affinity/selector"
    static let conflict = "pod affinity terms conflict"

    func preFilter(state: CycleState, pod: PodInfo, nodes: [NodeInfo]) -> PreFilterResult {
        let spec = pod.pod.spec
        let required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
        guard !spec.nodeSelector.isEmpty || required != nil else { return PreFilterResult(.skip) }
        // Terms that all pin `metadata.name` narrow the nodes worth filtering, as upstream does: a term's
        // name requirements intersect, terms unite, and one term without any leaves every node eligible.
        guard let terms = required?.nodeSelectorTerms, !terms.isEmpty else { return PreFilterResult() }
        var names: Set<String> = []
        for term in terms {
            var termNames: Set<String>?
            for field in term.matchFields where field.key == "metadata.name" && field.operator == "In" {
                termNames = termNames.map { $0.intersection(field.values) } ?? Set(field.values)
            }
            guard let termNames else { return PreFilterResult() }
            names.formUnion(termNames)
        }
        if names.isEmpty { return PreFilterResult(.unresolvable(Self.conflict)) }
        return PreFilterResult(.success, nodeNames: names)
    }

    func filter(state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        Self.matches(pod: pod.pod, node: node.node) ? .success : .unresolvable(Self.mismatch)
    }

    /// The pod's nodeSelector and required node affinity both hold for `node`.
    static func matches(pod: Pod, node: Node) -> Bool {
        let labels = node.metadata.labels
        for (key, value) in pod.spec.nodeSelector where labels[key] != value { return false }
        guard let required = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution else {
            return true
        }
        return required.nodeSelectorTerms.contains { $0.matches(node) }
    }

    /// Without preferred terms every node scores 0: skip Score, as upstream.
    func preScore(state: CycleState, pod: PodInfo, nodes: [NodeInfo]) -> PluginStatus {
        let preferred = pod.pod.spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []
        return preferred.isEmpty ? .skip : .success
    }

    func score(state: CycleState, pod: PodInfo, node: NodeInfo) -> Int64 {
        let preferred = pod.pod.spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []
        var total: Int64 = 0
        for term in preferred where (term.weight ?? 0) != 0 && (term.preference?.matches(node.node) ?? false) {
            total += Int64(term.weight ?? 0)
        }
        return total
    }

    func normalize(state: CycleState, pod: PodInfo, scores: inout [Int64]) {
        normalizeScores(&scores, reverse: false)
    }
}

extension NodeSelectorTerm {
    /// Every expression on the node's labels and every field requirement on its name hold; an empty term
    /// matches nothing, as upstream.
    func matches(_ node: Node) -> Bool {
        if matchExpressions.isEmpty && matchFields.isEmpty { return false }
        let labels = node.metadata.labels
        for requirement in matchExpressions where !requirement.matches(labels[requirement.key ?? ""]) { return false }
        for requirement in matchFields {
            guard requirement.key == "metadata.name", requirement.matches(node.metadata.name) else { return false }
        }
        return true
    }
}

extension NodeSelectorRequirement {
    /// Whether a label (or field) with `value` (nil when absent) satisfies this requirement.
    func matches(_ value: String?) -> Bool {
        switch `operator` ?? "" {
        case "In": return value.map(values.contains) ?? false
        case "NotIn": return value.map { !values.contains($0) } ?? true
        case "Exists": return value != nil
        case "DoesNotExist": return value == nil
        case "Gt", "Lt":
            guard let value, let have = Int64(value), values.count == 1, let bound = Int64(values[0]) else {
                return false
            }
            return `operator` == "Gt" ? have > bound : have < bound
        default: return false
        }
    }
}

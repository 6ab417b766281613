import APIMachinery
import Client

/// Places pods relative to other pods: required pod affinity and anti-affinity (the incoming pod's, and
/// existing pods' anti-affinity against it) filter, preferred terms score, as upstream's InterPodAffinity.
/// PreFilter counts matching pods per topology domain once; Filter only reads the counts.
struct InterPodAffinity: PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
    let name = "InterPodAffinity"
    let clusterEvents: Set<ClusterEvent> = [
        .assignedPodAdd, .assignedPodUpdate, .assignedPodDelete, .nodeAdd, .nodeUpdate,
    ]
    /// The score an existing pod's required affinity term gives the domains of pods it matches (0…100).
    let hardPodAffinityWeight: Int64
    /// Leave existing pods' preferred terms out of scoring (upstream's `ignorePreferredTermsOfExistingPods`).
    let ignorePreferredTermsOfExistingPods: Bool
    let handle: FrameworkHandle
    /// PreFilter counts over every node, on the framework's threads as upstream's.
    let parallelizer: Parallelizer
    /// PreFilter's counts kept across cycles, per incoming pod's labels and terms.
    let counted = DomainCountMemo<AffinityCountKey>(slots: 3)

    static let affinityMismatch = "node(s) didn't match pod affinity rules"
    static let antiAffinityMismatch = "node(s) didn't match pod anti-affinity rules"
    static let existingAntiAffinityMismatch = "node(s) didn't satisfy existing pods anti-affinity rules"

    init(args: JSON?, handle: FrameworkHandle) throws(SchedulerConfigError) {
        hardPodAffinityWeight = args?["hardPodAffinityWeight"]?.intValue ?? 1
        guard (0...maxNodeScore).contains(hardPodAffinityWeight) else {
            throw SchedulerConfigError(
                "hardPodAffinityWeight: Invalid value: \(hardPodAffinityWeight): not in valid range [0-100]")
        }
        ignorePreferredTermsOfExistingPods = args?["ignorePreferredTermsOfExistingPods"]?.boolValue ?? false
        self.handle = handle
        parallelizer = Parallelizer(parallelism: handle.parallelism)
    }

    /// What Filter needs, computed over every node once per cycle (and adjusted by preemption's what-ifs).
    struct FilterState: Sendable {
        var terms: PodAffinityTerms
        var namespaceLabels: [String: String]?
        /// Domains holding pods whose required anti-affinity selects the incoming pod.
        var existingAntiAffinityCounts: [TopologyPair: Int64] = [:]
        /// Domains holding pods that match all of the incoming pod's required affinity terms.
        var affinityCounts: [TopologyPair: Int64] = [:]
        /// Domains holding pods that one of the incoming pod's required anti-affinity terms selects.
        var antiAffinityCounts: [TopologyPair: Int64] = [:]

        /// Counts (`multiplier` 1) or uncounts (-1) `other` placed on a node with `labels`.
        mutating func update(
            incoming: Pod, other otherInfo: PodInfo, labels: [String: String], multiplier: Int64,
            namespaceLabels lookup: (String) -> [String: String]?
        ) {
            let other = otherInfo.pod
            if let existing = otherInfo.affinityTerms {
                for term in existing.requiredAntiAffinity where term.matches(incoming, namespaceLabels: namespaceLabels)
                {
                    if let pair = term.pair(on: labels) { existingAntiAffinityCounts[pair, default: 0] += multiplier }
                }
            }
            if terms.requiredAffinity.isEmpty && terms.requiredAntiAffinity.isEmpty { return }
            // PreFilter asks this for every pod in the cluster: look the namespace up only for a term that reads it.
            let otherLabels = terms.readsNamespaceLabels ? lookup(other.metadata.namespace ?? "") : nil
            if PodAffinityTerms.all(terms.requiredAffinity, match: other, namespaceLabels: otherLabels) {
                for term in terms.requiredAffinity {
                    if let pair = term.pair(on: labels) { affinityCounts[pair, default: 0] += multiplier }
                }
            }
            for term in terms.requiredAntiAffinity where term.matches(other, namespaceLabels: otherLabels) {
                if let pair = term.pair(on: labels) { antiAffinityCounts[pair, default: 0] += multiplier }
            }
        }

        var isEmpty: Bool {
            existingAntiAffinityCounts.values.allSatisfy { $0 == 0 } && terms.requiredAffinity.isEmpty
                && terms.requiredAntiAffinity.isEmpty
        }
    }

    func preFilter(state: CycleState, pod: PodInfo, nodes: [NodeInfo]) -> PreFilterResult {
        state.write(AllNodes(nodes: nodes))
        let terms: PodAffinityTerms
        do {
            terms = try PodAffinityTerms(pod.pod)
        } catch {
            return PreFilterResult(.error("parsing pod: \(error)"))
        }
        var filterState = FilterState(terms: terms, namespaceLabels: handle.namespaceLabels(pod.namespace))
        let lookup = handle.namespaceLabels
        let countsIncoming = !terms.requiredAffinity.isEmpty || !terms.requiredAntiAffinity.isEmpty
        // No required terms here and no pod anywhere with required anti-affinity: nothing to count.
        if !countsIncoming, state.read(ClusterSummary.self)?.podsWithRequiredAntiAffinity == 0 {
            return PreFilterResult(.skip)
        }
        let empty = filterState
        if !terms.readsNamespaceLabels {
            // Only the incoming pod's namespace labels are read: the counts are kept across cycles.
            let key = AffinityCountKey(
                namespace: pod.namespace, labels: pod.labels, namespaceLabels: filterState.namespaceLabels,
                requiredAffinity: terms.requiredAffinity, requiredAntiAffinity: terms.requiredAntiAffinity)
            let totals = counted.counts(for: key, nodes: nodes) { node in
                Self.contributions(of: node, incoming: pod.pod, empty: empty, countsIncoming: countsIncoming)
            }
            if totals.count == 3 {
                filterState.existingAntiAffinityCounts = totals[0]
                filterState.affinityCounts = totals[1]
                filterState.antiAffinityCounts = totals[2]
            }
            if filterState.isEmpty { return PreFilterResult(.skip) }
            state.write(filterState)
            return PreFilterResult()
        }
        // Every pod in the cluster may count: ranges of nodes are counted on the workers, then summed.
        let partials = parallelizer.mapChunks(nodes.count) { range in
            var partial = empty
            for node in nodes[range] {
                let others = countsIncoming ? node.pods : node.podsWithRequiredAntiAffinity
                if others.isEmpty { continue }
                let labels = node.labels
                for other in others {
                    partial.update(
                        incoming: pod.pod, other: other, labels: labels, multiplier: 1, namespaceLabels: lookup)
                }
            }
            return partial
        }
        // The first range's counts are the start; room for the rest is made once, not by repeated growth
        // (hostname domains give one entry per node with a counted pod).
        filterState = partials.first ?? empty
        let rest = partials.dropFirst()
        filterState.existingAntiAffinityCounts.reserveCapacity(
            rest.reduce(filterState.existingAntiAffinityCounts.count) { $0 + $1.existingAntiAffinityCounts.count })
        filterState.antiAffinityCounts.reserveCapacity(
            rest.reduce(filterState.antiAffinityCounts.count) { $0 + $1.antiAffinityCounts.count })
        for partial in rest {
            filterState.existingAntiAffinityCounts.merge(partial.existingAntiAffinityCounts, uniquingKeysWith: +)
            filterState.affinityCounts.merge(partial.affinityCounts, uniquingKeysWith: +)
            filterState.antiAffinityCounts.merge(partial.antiAffinityCounts, uniquingKeysWith: +)
        }
        if filterState.isEmpty { return PreFilterResult(.skip) }
        state.write(filterState)
        return PreFilterResult()
    }

    /// What `node`'s pods add to the three count tables (existing anti-affinity, affinity, anti-affinity) when
    /// no term reads another pod's namespace labels.
    static func contributions(
        of node: NodeInfo, incoming: Pod, empty: FilterState, countsIncoming: Bool
    ) -> [DomainContribution] {
        let others = countsIncoming ? node.pods : node.podsWithRequiredAntiAffinity
        if others.isEmpty { return [] }
        var partial = empty
        let labels = node.labels
        for other in others {
            partial.update(incoming: incoming, other: other, labels: labels, multiplier: 1) { _ in nil }
        }
        var result: [DomainContribution] = []
        let tables = [partial.existingAntiAffinityCounts, partial.affinityCounts, partial.antiAffinityCounts]
        for (slot, table) in tables.enumerated() {
            for (pair, count) in table { result.append(DomainContribution(slot: slot, pair: pair, count: count)) }
        }
        return result
    }

    func addPod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo) {
        update(state, pod, other, node, by: 1)
    }

    func removePod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo) {
        update(state, pod, other, node, by: -1)
    }

    private func update(_ state: CycleState, _ pod: PodInfo, _ other: PodInfo, _ node: NodeInfo, by multiplier: Int64) {
        guard var filterState = state.read(FilterState.self) else { return }
        filterState.update(
            incoming: pod.pod, other: other, labels: node.labels, multiplier: multiplier,
            namespaceLabels: handle.namespaceLabels)
        state.write(filterState)
    }

    func filter(state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        state.read(FilterState.self) { filterState in Self.filter(filterState, pod: pod, node: node) } ?? .success
    }

    private static func filter(_ filterState: borrowing FilterState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        let labels = node.labels
        if !Self.satisfiesAffinity(filterState, pod: pod.pod, labels: labels) {
            return .unresolvable(Self.affinityMismatch)
        }
        for term in filterState.terms.requiredAntiAffinity {
            if let pair = term.pair(on: labels), (filterState.antiAffinityCounts[pair] ?? 0) > 0 {
                return .unschedulable(Self.antiAffinityMismatch)
            }
        }
        for (key, value) in labels
        where (filterState.existingAntiAffinityCounts[TopologyPair(key: key, value: value)] ?? 0) > 0 {
            return .unschedulable(Self.existingAntiAffinityMismatch)
        }
        return .success
    }

    /// Every required affinity term finds a matching pod in the node's domain; a node without a term's
    /// topology label fails. The first pod of a group that selects itself may go anywhere (no pod matches yet).
    static func satisfiesAffinity(_ state: FilterState, pod: Pod, labels: [String: String]) -> Bool {
        let terms = state.terms.requiredAffinity
        if terms.isEmpty { return true }
        var podsExist = true
        for term in terms {
            guard let pair = term.pair(on: labels) else { return false }
            if (state.affinityCounts[pair] ?? 0) <= 0 { podsExist = false }
        }
        if podsExist { return true }
        let noneAnywhere = state.affinityCounts.values.allSatisfy { $0 <= 0 }
        return noneAnywhere && PodAffinityTerms.all(terms, match: pod, namespaceLabels: state.namespaceLabels)
    }
}

/// The question InterPodAffinity's kept counts answer: what the incoming pod's namespace, labels and required
/// terms select, and which existing pods' required anti-affinity selects it.
struct AffinityCountKey: Sendable, Equatable {
    var namespace: String
    var labels: [String: String]
    var namespaceLabels: [String: String]?
    var requiredAffinity: [AffinityTerm]
    var requiredAntiAffinity: [AffinityTerm]
}

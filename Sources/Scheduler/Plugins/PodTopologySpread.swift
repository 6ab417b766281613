import APIMachinery
import Client

/// Spreads pods evenly over topology domains, as upstream's PodTopologySpread: `DoNotSchedule` constraints
/// filter (a domain may not exceed the least loaded one by more than `maxSkew`), `ScheduleAnyway` ones
/// score. A pod without constraints gets the configured defaults (upstream's System defaults: hostname
/// skew 3 and zone skew 5, selecting the pods of the pod's Services and owning ReplicaSet/StatefulSet).
struct PodTopologySpread: PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
    let name = "PodTopologySpread"
    let clusterEvents: Set<ClusterEvent> = [
        .assignedPodAdd, .assignedPodUpdate, .assignedPodDelete, .nodeAdd, .nodeUpdate,
    ]
    /// Constraints for pods without their own; their selector is the owners' (`defaultSelector`).
    let defaultConstraints: [TopologySpreadConstraint]
    /// True for upstream's System defaulting (scoring then ignores nodes missing a topology label).
    let systemDefaulted: Bool
    /// The selector of the pod's Services and owning controllers; nil (or empty) gives no default constraints.
    let defaultSelector: @Sendable (Pod) -> LabelSelector?
    /// PreFilter counts over every node, on the framework's threads as upstream's.
    let parallelizer: Parallelizer
    /// PreFilter's counts kept across cycles, for constraints whose node inclusion reads only labels.
    let counted = DomainCountMemo<SpreadCountKey>(slots: 1)

    static let constraintsMismatch = "node(s) didn't match pod topology spread constraints"
    static let missingLabel = constraintsMismatch + " (missing required label)"
    static let systemDefaults = [
        TopologySpreadConstraint(
            maxSkew: 3, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway"),
        TopologySpreadConstraint(
            maxSkew: 5, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway"),
    ]

    init(
        args: JSON?, defaultSelector: @escaping @Sendable (Pod) -> LabelSelector? = { _ in nil },
        parallelizer: Parallelizer = Parallelizer(parallelism: 16)
    ) throws(SchedulerConfigError) {
        self.parallelizer = parallelizer
        let defaultingType = args?["defaultingType"]?.stringValue ?? "System"
        var listed: [TopologySpreadConstraint] = []
        for item in args?["defaultConstraints"]?.arrayValue ?? [] {
            do {
                listed.append(try TopologySpreadConstraint(json: item))
            } catch {
                throw SchedulerConfigError("PodTopologySpread: defaultConstraints: \(error)")
            }
        }
        switch defaultingType {
        case "System":
            guard listed.isEmpty else {
                throw SchedulerConfigError(
                    "defaultConstraints: Invalid value: \"System\": when .defaultingType is \"System\"")
            }
            defaultConstraints = Self.systemDefaults
            systemDefaulted = true
        case "List":
            defaultConstraints = listed
            systemDefaulted = false
        default:
            throw SchedulerConfigError(
                "defaultingType: Unsupported value: \"\(defaultingType)\": supported values: \"System\", \"List\"")
        }
        self.defaultSelector = defaultSelector
    }

    /// The pod's constraints with `whenUnsatisfiable` == `action`, or the defaults when it has none.
    func constraints(of pod: Pod, action: String) throws(APIError) -> [SpreadConstraint] {
        if !pod.spec.topologySpreadConstraints.isEmpty {
            var result: [SpreadConstraint] = []
            for constraint in pod.spec.topologySpreadConstraints where constraint.whenUnsatisfiable == action {
                result.append(try SpreadConstraint(constraint, of: pod, selector: nil))
            }
            return result
        }
        guard !defaultConstraints.isEmpty, let selector = defaultSelector(pod), !selector.isEverything else {
            return []
        }
        var result: [SpreadConstraint] = []
        for constraint in defaultConstraints where constraint.whenUnsatisfiable == action {
            result.append(try SpreadConstraint(constraint, of: pod, selector: selector))
        }
        return result
    }

    /// Matching pods per domain for the `DoNotSchedule` constraints, counted once per cycle.
    struct FilterState: Sendable {
        var constraints: [SpreadConstraint]
        var counts: [TopologyPair: Int64] = [:]
        /// Per constraint, in order: the most matching pods a node's domain may hold for the pod to go there
        /// (the least loaded domain's count plus maxSkew, less one when the pod matches the selector itself),
        /// worked out once per cycle so Filter makes one lookup per node and constraint.
        var limits: [Int64] = []

        /// Recomputes `limits` after `counts` changed; `labels` are the incoming pod's.
        mutating func recomputeLimits(incoming labels: [String: String]) {
            var domains: [String: Int64] = [:]
            var minimum: [String: Int64] = [:]
            for (pair, count) in counts {
                domains[pair.key, default: 0] += 1
                minimum[pair.key] = min(minimum[pair.key] ?? count, count)
            }
            limits = constraints.map { constraint in
                // No domain counted yet: upstream's critical paths start at MaxInt32, so nothing is skewed.
                var least = minimum[constraint.topologyKey] ?? Int64(Int32.max)
                if (domains[constraint.topologyKey] ?? 0) < constraint.minDomains { least = 0 }
                let selfMatch: Int64 = constraint.selector?.matches(labels) == true ? 1 : 0
                return least + constraint.maxSkew - selfMatch
            }
        }
    }

    func preFilter(state: CycleState, pod: PodInfo, nodes: [NodeInfo]) -> PreFilterResult {
        state.write(AllNodes(nodes: nodes))
        let constraints: [SpreadConstraint]
        do {
            constraints = try self.constraints(of: pod.pod, action: "DoNotSchedule")
        } catch {
            return PreFilterResult(.error("parsing pod topology spread constraints: \(error)"))
        }
        guard !constraints.isEmpty else { return PreFilterResult(.skip) }
        var filterState = FilterState(constraints: constraints)
        if constraints.allSatisfy({ $0.ignoresNode(for: pod.pod) }) {
            // Which nodes count then depends on their labels alone: the counts are kept across cycles.
            let key = SpreadCountKey(namespace: pod.namespace, constraints: constraints)
            filterState.counts =
                counted.counts(for: key, nodes: nodes) { node in
                    Self.contributions(of: node, constraints: constraints, namespace: pod.namespace)
                }.first ?? [:]
            filterState.recomputeLimits(incoming: pod.labels)
            state.write(filterState)
            return PreFilterResult()
        }
        // Every node is visited each cycle: ranges of nodes are counted on the workers, then summed.
        let partials = parallelizer.mapChunks(nodes.count) { range in
            var counts: [TopologyPair: Int64] = [:]
            for node in nodes[range] {
                let labels = node.labels
                guard SpreadConstraint.all(constraints, labelled: labels) else { continue }
                for constraint in constraints where constraint.includes(node, for: pod.pod) {
                    let pair = TopologyPair(key: constraint.topologyKey, value: labels[constraint.topologyKey] ?? "")
                    counts[pair, default: 0] += constraint.countMatching(node.pods, namespace: pod.namespace)
                }
            }
            return counts
        }
        filterState.counts = partials.first ?? [:]
        for partial in partials.dropFirst() { filterState.counts.merge(partial, uniquingKeysWith: +) }
        filterState.recomputeLimits(incoming: pod.labels)
        state.write(filterState)
        return PreFilterResult()
    }

    /// What `node` adds to the `DoNotSchedule` counts when no constraint looks past its labels.
    static func contributions(
        of node: NodeInfo, constraints: [SpreadConstraint], namespace: String
    ) -> [DomainContribution] {
        let labels = node.labels
        guard SpreadConstraint.all(constraints, labelled: labels) else { return [] }
        return constraints.map { constraint in
            DomainContribution(
                slot: 0, pair: TopologyPair(key: constraint.topologyKey, value: labels[constraint.topologyKey] ?? ""),
                count: constraint.countMatching(node.pods, namespace: namespace))
        }
    }

    func addPod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo) {
        update(state, pod, other, node, by: 1)
    }

    func removePod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo) {
        update(state, pod, other, node, by: -1)
    }

    private func update(_ state: CycleState, _ pod: PodInfo, _ other: PodInfo, _ node: NodeInfo, by delta: Int64) {
        guard var filterState = state.read(FilterState.self), other.namespace == pod.namespace,
            SpreadConstraint.all(filterState.constraints, labelled: node.labels)
        else { return }
        for constraint in filterState.constraints
        where constraint.selector?.matches(other.labels) == true && constraint.includes(node, for: pod.pod) {
            let pair = TopologyPair(
                key: constraint.topologyKey, value: node.labels[constraint.topologyKey] ?? "")
            filterState.counts[pair, default: 0] += delta
        }
        filterState.recomputeLimits(incoming: pod.labels)
        state.write(filterState)
    }

    func filter(state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        state.read(FilterState.self) { filterState in Self.filter(filterState, node: node) } ?? .success
    }

    private static func filter(_ filterState: borrowing FilterState, node: NodeInfo) -> PluginStatus {
        let labels = node.labels
        for (index, constraint) in filterState.constraints.enumerated() {
            guard let value = labels[constraint.topologyKey] else {
                return .unresolvable(Self.missingLabel)
            }
            let matching = filterState.counts[TopologyPair(key: constraint.topologyKey, value: value)] ?? 0
            if matching > filterState.limits[index] {
                return .unschedulable(Self.constraintsMismatch)
            }
        }
        return .success
    }
}

/// A topology spread constraint ready for counting, as upstream's `topologySpreadConstraint`.
struct SpreadConstraint: Sendable, Equatable {
    var maxSkew: Int64
    var topologyKey: String
    /// nil selects no pod (an absent `labelSelector`).
    var selector: LabelSelector?
    var minDomains: Int64
    /// `nodeAffinityPolicy: Honor` (the default): only nodes the pod's node affinity admits count.
    var honorsNodeAffinity: Bool
    /// `nodeTaintsPolicy: Honor` (default Ignore): only nodes whose hard taints the pod tolerates count.
    var honorsNodeTaints: Bool

    /// Reads `constraint`; `selector` replaces its own (default constraints use the owners'), and
    /// `matchLabelKeys` add the pod's values for those keys, as upstream's scheduler does in v1.32.
    init(_ constraint: TopologySpreadConstraint, of pod: Pod, selector override: LabelSelector?) throws(APIError) {
        maxSkew = Int64(constraint.maxSkew ?? 1)
        topologyKey = constraint.topologyKey ?? ""
        var selector = override
        if selector == nil { selector = try constraint.labelSelector?.labelSelector() }
        if selector != nil {
            for key in constraint.matchLabelKeys {
                if let value = pod.metadata.labels[key] { selector?.requirements.append(.in(key, [value])) }
            }
        }
        self.selector = selector
        minDomains = Int64(constraint.minDomains ?? 1)
        honorsNodeAffinity = (constraint.nodeAffinityPolicy ?? "Honor") == "Honor"
        honorsNodeTaints = constraint.nodeTaintsPolicy == "Honor"
    }

    /// Whether `node` takes part in spreading `pod` under this constraint's inclusion policies.
    func includes(_ node: NodeInfo, for pod: Pod) -> Bool {
        // PreFilter asks this of every node: a pod without node constraints need not look at the Node.
        let nodeConstrained =
            !pod.spec.nodeSelector.isEmpty
            || pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution != nil
        if honorsNodeAffinity && nodeConstrained && !NodeAffinity.matches(pod: pod, node: node.node) { return false }
        if honorsNodeTaints {
            for taint in node.taints where taint.effect == "NoSchedule" || taint.effect == "NoExecute" {
                if !pod.spec.tolerations.contains(where: { $0.tolerates(taint) }) { return false }
            }
        }
        return true
    }

    /// Whether `includes` is true of every node for `pod`: neither its node affinity nor taints are consulted.
    func ignoresNode(for pod: Pod) -> Bool {
        let nodeConstrained =
            !pod.spec.nodeSelector.isEmpty
            || pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution != nil
        return !(honorsNodeAffinity && nodeConstrained) && !honorsNodeTaints
    }

    /// Pods in `namespace` the selector matches, leaving out those being deleted.
    func countMatching(_ pods: [PodInfo], namespace: String) -> Int64 {
        guard let selector else { return 0 }
        var count: Int64 = 0
        for pod in pods where !pod.isTerminating && pod.namespace == namespace && selector.matches(pod.labels) {
            count += 1
        }
        return count
    }

    /// The node has every constraint's topology label.
    static func all(_ constraints: [SpreadConstraint], labelled labels: [String: String]) -> Bool {
        constraints.allSatisfy { labels[$0.topologyKey] != nil }
    }
}

/// The question PodTopologySpread's kept counts answer: matching pods of a namespace per constraint domain.
struct SpreadCountKey: Sendable, Equatable {
    var namespace: String
    var constraints: [SpreadConstraint]
}

import Synchronization

/// One pod's placement decision over a snapshot: PreFilter, Filter over enough nodes, PreScore, Score, pick
/// the best (upstream's `schedulePod`). Pure with respect to the cluster: it reads the snapshot only.
public struct SchedulingAlgorithm: Sendable {
    /// `percentageOfNodesToScore` (0: upstream's adaptive percentage).
    public var percentageOfNodesToScore: Int = 0
    /// Filters and scores run on up to this many threads (`parallelism`, upstream's default 16).
    let parallelizer: Parallelizer

    public init(percentageOfNodesToScore: Int = 0, parallelism: Int = 16) {
        self.percentageOfNodesToScore = percentageOfNodesToScore
        parallelizer = Parallelizer(parallelism: parallelism)
    }

    /// Where the pod goes, or why nowhere.
    public enum Outcome: Sendable {
        case scheduled(node: String, evaluated: Int, feasible: Int)
        case unschedulable(FitError)
        case failed(PluginStatus)
    }

    /// Decides `pod`'s node; `startIndex` rotates where the search begins, so pods spread over the nodes
    /// when only a percentage of them is evaluated.
    public func schedule(
        pod: PodInfo, profile: Profile, snapshot: Snapshot, state: CycleState, startIndex: inout Int
    ) -> Outcome {
        let nodes = snapshot.nodes
        guard !nodes.isEmpty else { return .unschedulable(FitError(nodeCount: 0, diagnosis: Diagnosis())) }
        var diagnosis = Diagnosis()
        state.write(snapshot.summary)
        let preFilter = profile.runPreFilter(state: state, pod: pod, nodes: nodes)
        if preFilter.status.code == .error { return .failed(preFilter.status) }
        if preFilter.status.isRejected {
            diagnosis.preFilterStatus = preFilter.status
            diagnosis.unschedulablePlugins.insert(preFilter.status.plugin)
            return .unschedulable(FitError(nodeCount: nodes.count, diagnosis: diagnosis))
        }
        var feasible: [NodeInfo] = []
        let filters = profile.filterPlugins(skipping: preFilter.skipped)
        let wanted = numFeasibleNodesToFind(total: nodes.count)
        // A node nominated by an earlier preemption is tried first, as upstream does.
        if let nominated = pod.pod.status.nominatedNodeName, let node = snapshot.node(named: nominated) {
            if profile.runFilter(filters, state: state, pod: pod, node: node).isSuccess {
                return .scheduled(node: nominated, evaluated: 1, feasible: 1)
            }
        }
        let start = startIndex % nodes.count
        let allowed = preFilter.nodeNames
        let excluded =
            allowed == nil
            ? PluginStatus.success
            : PluginStatus.unresolvable(
                "node(s) didn't satisfy plugin(s) [\(preFilter.narrowedBy.joined(separator: " "))]")
        let found = Atomic<Int>(0)
        let count = nodes.count
        // The nodes and plugins are read in place: copying a node or a plugin per node costs atomic reference
        // counting on memory both workers share.
        let statuses = state.readingOnly {
            nodes.withUnsafeBufferPointer { nodeBuffer in
                filters.withReferences { filterBuffer in
                    nonisolated(unsafe) let (nodeBuffer, filterBuffer) = (nodeBuffer, filterBuffer)
                    return parallelizer.search(
                        count, expected: wanted, stop: { found.load(ordering: .relaxed) >= wanted }
                    ) { offset in
                        let position = start + offset < count ? start + offset : start + offset - count
                        if offset + Self.prefetchDistance < count {
                            let ahead = position + Self.prefetchDistance
                            NodeInfo.prefetch(
                                nodeBuffer.baseAddress.unsafelyUnwrapped + (ahead < count ? ahead : ahead - count))
                        }
                        if let allowed, !allowed.contains(nodeBuffer[position].name) { return excluded }
                        let status = NodeInfo.withUnretained(nodeBuffer.baseAddress.unsafelyUnwrapped + position) {
                            Profile.runFilter(filterBuffer, state: state, pod: pod, node: $0)
                        }
                        if status.isSuccess { found.add(1, ordering: .relaxed) }
                        return status
                    }
                }
            }
        }
        var evaluated = 0
        feasible.reserveCapacity(min(wanted, statuses.count))
        // Workers may have gone past the wanted count; the result is what a sequential search finds.
        for status in statuses {
            guard feasible.count < wanted else { break }
            if status.isSuccess {
                feasible.append(nodes[(start + evaluated) % count])
            } else if status.code == .error {
                return .failed(status)
            }
            evaluated += 1
        }
        startIndex = (start + evaluated) % count
        guard !feasible.isEmpty else {
            // Only a pod that fits nowhere needs each node's reason (a scheduled pod's would be thrown away).
            for (offset, status) in statuses.prefix(evaluated).enumerated() {
                let node = nodes[(start + offset) % count]
                diagnosis.nodeStatuses[node.name] = status
                if !status.plugin.isEmpty { diagnosis.unschedulablePlugins.insert(status.plugin) }
            }
            return .unschedulable(FitError(nodeCount: nodes.count, diagnosis: diagnosis))
        }
        if feasible.count == 1 {
            return .scheduled(node: feasible[0].name, evaluated: evaluated, feasible: 1)
        }
        let preScore = profile.runPreScore(state: state, pod: pod, nodes: feasible)
        if !preScore.status.isSuccess { return .failed(preScore.status) }
        let scores = profile.runScore(
            state: state, pod: pod, nodes: feasible, skipping: preScore.skipped, parallelizer: parallelizer)
        return .scheduled(node: Self.selectHost(feasible, scores), evaluated: evaluated, feasible: feasible.count)
    }

    /// How many nodes ahead of the one it filters the search prefetches (see `NodeInfo.prefetch`): about one
    /// memory latency's worth of filtering.
    static let prefetchDistance = 4

    /// Upstream's adaptive count: all nodes below 100, else a percentage (50 % less 1 % per 125 nodes, at
    /// least 5 %) and never fewer than 100.
    public func numFeasibleNodesToFind(total: Int) -> Int {
        if total < 100 { return total }
        var percentage = percentageOfNodesToScore
        if percentage <= 0 { percentage = max(50 - total / 125, 5) }
        if percentage >= 100 { return total }
        return max(total * percentage / 100, 100)
    }

    /// The highest-scoring node; ties are broken at random (reservoir sampling) so equal nodes share the load.
    static func selectHost(_ nodes: [NodeInfo], _ scores: [Int64]) -> String {
        // Hundreds of nodes often tie: the system generator would make a getrandom system call per tie.
        var random = SplitMix64(seed: UInt64.random(in: 0...UInt64.max))
        var best = 0
        var ties = 1
        for index in 1..<nodes.count {
            if scores[index] > scores[best] {
                best = index
                ties = 1
            } else if scores[index] == scores[best] {
                ties += 1
                if Int.random(in: 0..<ties, using: &random) == 0 { best = index }
            }
        }
        return nodes[best].name
    }
}

/// A small, fast, non-cryptographic generator (SplitMix64), seeded once per use from the system's, for
/// choices that only need to be even, as upstream's `math/rand`.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

/// Why a pod fits no node, with upstream's message: `0/3 nodes are available: 1 Insufficient cpu, 2 node(s)
/// had untolerated taint {…}.`, then what preemption said.
public struct FitError: Error, Sendable, CustomStringConvertible {
    public var nodeCount: Int
    public var diagnosis: Diagnosis
    /// Set by PostFilter (preemption) when it ran and did not help.
    public var postFilterMessage: String?

    public init(nodeCount: Int, diagnosis: Diagnosis, postFilterMessage: String? = nil) {
        self.nodeCount = nodeCount
        self.diagnosis = diagnosis
        self.postFilterMessage = postFilterMessage
    }

    public var description: String {
        var message = "0/\(nodeCount) nodes are available:"
        if let preFilter = diagnosis.preFilterStatus {
            message += " \(preFilter.reasons.joined(separator: ", "))."
        } else {
            var histogram: [String: Int] = [:]
            for status in diagnosis.nodeStatuses.values {
                for reason in status.reasons { histogram[reason, default: 0] += 1 }
            }
            let reasons = histogram.map { "\($0.value) \($0.key)" }.sorted()
            if !reasons.isEmpty { message += " \(reasons.joined(separator: ", "))." }
        }
        if let postFilterMessage { message += " \(postFilterMessage)." }
        return message
    }
}

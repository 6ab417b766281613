import APIMachinery

/// Rejects nodes without room for the pod's requests (and pod count), and scores the rest by a scoring
/// strategy: LeastAllocated (the default), MostAllocated or RequestedToCapacityRatio.
struct NodeResourcesFit: FilterPlugin, ScorePlugin {
    let name = "NodeResourcesFit"
    let clusterEvents: Set<ClusterEvent> = [.assignedPodDelete, .nodeAdd, .nodeUpdate]
    let scorer: ResourceAllocationScorer
    /// Resources whose requests Filter ignores (`ignoredResources`, `ignoredResourceGroups`).
    let ignored: Set<String>
    let ignoredGroups: Set<String>

    init(args: JSON?) throws(SchedulerConfigError) {
        let strategy = args?["scoringStrategy"]
        let type = strategy?["type"]?.stringValue ?? "LeastAllocated"
        var resources: [(String, Int64)] = []
        for item in strategy?["resources"]?.arrayValue ?? [] {
            guard let name = item["name"]?.stringValue else {
                throw SchedulerConfigError("NodeResourcesFit: scoringStrategy.resources[].name required")
            }
            resources.append((name, item["weight"]?.intValue ?? 1))
        }
        if resources.isEmpty { resources = [("cpu", 1), ("memory", 1)] }
        switch type {
        case "LeastAllocated":
            scorer = ResourceAllocationScorer(resources: resources, useRequested: false, score: .least)
        case "MostAllocated": scorer = ResourceAllocationScorer(resources: resources, useRequested: false, score: .most)
        case "RequestedToCapacityRatio":
            var shape: [(utilization: Int64, score: Int64)] = []
            for point in strategy?["requestedToCapacityRatio"]?["shape"]?.arrayValue ?? [] {
                shape.append((point["utilization"]?.intValue ?? 0, point["score"]?.intValue ?? 0))
            }
            guard !shape.isEmpty else {
                throw SchedulerConfigError("NodeResourcesFit: requestedToCapacityRatio.shape: Required value")
            }
            // The configuration scores 0…10; upstream scales them to 0…maxNodeScore before interpolating.
            let scaled = shape.map { (utilization: $0.utilization, score: $0.score * maxNodeScore / 10) }
            scorer = ResourceAllocationScorer(resources: resources, useRequested: false, score: .ratio(scaled))
        default:
            throw SchedulerConfigError("NodeResourcesFit: scoringStrategy.type: Unsupported value: \"\(type)\"")
        }
        ignored = Set(args?["ignoredResources"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        ignoredGroups = Set(args?["ignoredResourceGroups"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }

    func filter(state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        // Most nodes fit: decide that without building the list of reasons.
        if fits(pod: pod, node: node) { return .success }
        let reasons = insufficientResources(pod: pod, node: node)
        return reasons.isEmpty ? .success : PluginStatus(.unschedulable, reasons)
    }

    /// Whether every requested resource (and one more pod) fits in what the node has left.
    func fits(pod: PodInfo, node: NodeInfo) -> Bool {
        let want = pod.requests
        guard node.hasRoom(for: want) else { return false }
        return want.scalar.isEmpty || insufficientResources(pod: pod, node: node).isEmpty
    }

    /// Upstream's reasons, in its order: `Too many pods`, then `Insufficient <resource>` per resource.
    func insufficientResources(pod: PodInfo, node: NodeInfo) -> [String] {
        var reasons: [String] = []
        if Int64(node.pods.count) + 1 > node.allocatable.allowedPodNumber { reasons.append("Too many pods") }
        let want = pod.requests
        if want.isEmpty { return reasons }
        let have = node.allocatable
        let used = node.requested
        if want.milliCPU > 0 && have.milliCPU < want.milliCPU + used.milliCPU { reasons.append("Insufficient cpu") }
        if want.memory > 0 && have.memory < want.memory + used.memory { reasons.append("Insufficient memory") }
        if want.ephemeralStorage > 0 && have.ephemeralStorage < want.ephemeralStorage + used.ephemeralStorage {
            reasons.append("Insufficient ephemeral-storage")
        }
        for (name, amount) in want.scalar.sorted(by: { $0.key < $1.key }) where amount > 0 {
            if ignored.contains(name) { continue }
            if let slash = name.firstIndex(of: "/"), ignoredGroups.contains(String(name[..<slash])) { continue }
            if (have.scalar[name] ?? 0) < amount + (used.scalar[name] ?? 0) { reasons.append("Insufficient \(name)") }
        }
        return reasons
    }

    func score(state: CycleState, pod: PodInfo, node: NodeInfo) -> Int64 {
        scorer.score(pod: pod, node: node)
    }
}

/// Scores a node from how much of each resource the pod would leave requested, as upstream's
/// `resourceAllocationScorer` (shared by NodeResourcesFit and NodeResourcesBalancedAllocation).
struct ResourceAllocationScorer: Sendable {
    enum Kind: Sendable {
        case least
        case most
        case ratio([(utilization: Int64, score: Int64)])
        case balanced
    }

    let resources: [(name: String, weight: Int64)]
    /// Count the pods' actual requests (BalancedAllocation) rather than requests with defaults for absent
    /// CPU and memory (the Fit strategies).
    let useRequested: Bool
    let score: Kind
    /// `resources` with their names resolved.
    private let resolved: [(name: ResourceName, weight: Int64)]
    /// The weights when the resources are upstream's default, CPU then memory: scored from the node's fields
    /// directly, without walking `resolved` (each element an enum with a string to copy) for every node.
    private let cpuThenMemory: (cpu: Int64, memory: Int64)?

    init(resources: [(name: String, weight: Int64)], useRequested: Bool, score: Kind) {
        self.resources = resources
        self.useRequested = useRequested
        self.score = score
        resolved = resources.map { (ResourceName($0.name), $0.weight) }
        if resolved.count == 2, resolved[0].name == .cpu, resolved[1].name == .memory {
            cpuThenMemory = (resolved[0].weight, resolved[1].weight)
        } else {
            cpuThenMemory = nil
        }
    }

    /// Whether the pod requests any of the scored resources (BalancedAllocation skips pods that request none).
    func requestsAny(_ pod: PodInfo) -> Bool {
        if cpuThenMemory != nil { return pod.requests.milliCPU > 0 || pod.requests.memory > 0 }
        return resolved.contains { pod.requests.amount(of: $0.name) > 0 }
    }

    /// Requested (node's pods plus this pod) and allocatable per resource; nil for a resource the node lacks.
    func usage(pod: PodInfo, node: NodeInfo) -> [(requested: Int64, allocatable: Int64, weight: Int64)] {
        var usage: [(requested: Int64, allocatable: Int64, weight: Int64)] = []
        forEachUsage(pod: pod, node: node) { usage.append(($0, $1, $2)) }
        return usage
    }

    /// Calls `body(requested, allocatable, weight)` for each entry `usage` would list, without building the
    /// list: Score runs this for every feasible node.
    private func forEachUsage(pod: PodInfo, node: NodeInfo, _ body: (Int64, Int64, Int64) -> Void) {
        if let weights = cpuThenMemory {
            // CPU and memory have defaults for absent requests: the Fit strategies count with them.
            let onNode = node.cpuAndMemory(nonZero: !useRequested)
            let podCPU = useRequested ? pod.requests.milliCPU : pod.nonZeroRequests.milliCPU
            let podMemory = useRequested ? pod.requests.memory : pod.nonZeroRequests.memory
            if onNode.allocatableCPU > 0 { body(onNode.requestedCPU + podCPU, onNode.allocatableCPU, weights.cpu) }
            if onNode.allocatableMemory > 0 {
                body(onNode.requestedMemory + podMemory, onNode.allocatableMemory, weights.memory)
            }
            return
        }
        for resource in resolved {
            let actual = useRequested || !resource.name.hasNonZeroDefault
            let (onNode, allocatable) = node.amounts(of: resource.name, nonZero: !actual)
            guard allocatable > 0 else { continue }
            let forPod = actual ? pod.requests.amount(of: resource.name) : pod.nonZeroRequests.amount(of: resource.name)
            // An extended resource the pod does not ask for says nothing about this pod's fit: skip it.
            if actual && forPod == 0 && resource.name.isScalar { continue }
            body(onNode + forPod, allocatable, resource.weight)
        }
    }

    func score(pod: PodInfo, node: NodeInfo) -> Int64 {
        if case .balanced = score { return balancedScore(pod: pod, node: node) }
        var total: Int64 = 0
        var weights: Int64 = 0
        forEachUsage(pod: pod, node: node) { requested, allocatable, weight in
            let score = perResource(requested: requested, allocatable: allocatable)
            // RequestedToCapacityRatio leaves resources scoring 0 out of the weights, as upstream.
            if case .ratio = self.score, score == 0 { return }
            total += score * weight
            weights += weight
        }
        if weights == 0 { return 0 }
        if case .ratio = score { return Int64((Double(total) / Double(weights)).rounded()) }
        return total / weights
    }

    /// `balanced(usage(…))` for the usual one or two resources without building the list.
    private func balancedScore(pod: PodInfo, node: NodeInfo) -> Int64 {
        var fractions: (Double, Double) = (0, 0)
        var count = 0
        forEachUsage(pod: pod, node: node) { requested, allocatable, _ in
            let fraction = min(Double(requested) / Double(allocatable), 1)
            if count == 0 { fractions.0 = fraction } else if count == 1 { fractions.1 = fraction }
            count += 1
        }
        switch count {
        case 0, 1: return maxNodeScore
        case 2: return Int64((1 - abs(fractions.0 - fractions.1) / 2) * Double(maxNodeScore))
        default: return Self.balanced(usage(pod: pod, node: node))
        }
    }

    private func perResource(requested: Int64, allocatable: Int64) -> Int64 {
        switch score {
        case .least:
            return requested > allocatable ? 0 : (allocatable - requested) * maxNodeScore / allocatable
        case .most:
            // Defaults for pods without requests can push the sum past capacity: count it as full.
            return min(requested, allocatable) * maxNodeScore / allocatable
        case .ratio(let shape):
            let utilization = min(requested * 100 / allocatable, 100)
            return Self.interpolate(shape, at: utilization)
        case .balanced:
            return 0
        }
    }

    /// Upstream's broken linear function through the shape's points.
    static func interpolate(_ shape: [(utilization: Int64, score: Int64)], at x: Int64) -> Int64 {
        guard let first = shape.first, let last = shape.last else { return 0 }
        if x <= first.utilization { return first.score }
        for index in 1..<shape.count where x <= shape[index].utilization {
            let (x0, y0) = shape[index - 1]
            let (x1, y1) = shape[index]
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        }
        return last.score
    }

    /// 1 minus the standard deviation of the requested fractions: nodes whose resources fill evenly score high.
    private static func balanced(_ usage: [(requested: Int64, allocatable: Int64, weight: Int64)]) -> Int64 {
        let fractions = usage.map { min(Double($0.requested) / Double($0.allocatable), 1) }
        guard fractions.count > 1 else { return maxNodeScore }
        let deviation: Double
        if fractions.count == 2 {
            deviation = abs(fractions[0] - fractions[1]) / 2
        } else {
            let mean = fractions.reduce(0, +) / Double(fractions.count)
            let variance = fractions.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(fractions.count)
            deviation = variance.squareRoot()
        }
        return Int64((1 - deviation) * Double(maxNodeScore))
    }
}

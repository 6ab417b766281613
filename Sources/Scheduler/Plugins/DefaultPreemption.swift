import APIMachinery
import Client

/// When no node fits, finds a node where evicting lower-priority pods would make room, deletes those
/// victims and nominates the node, as upstream's DefaultPreemption (PostFilter).
struct DefaultPreemption: PostFilterPlugin {
    let name = "DefaultPreemption"
    let clusterEvents: Set<ClusterEvent> = []
    /// At least this percentage of the nodes is dry-run before choosing (0…100, default 10).
    let minCandidateNodesPercentage: Int
    /// …and at least this many nodes (default 100).
    let minCandidateNodesAbsolute: Int
    /// Its `profile` gives the Filter plugins that judge "would the pod fit without these pods".
    let handle: FrameworkHandle
    /// Deletes a victim through the API.
    let deletePod: @Sendable (Pod) async throws -> Void

    static let noVictims = "No preemption victims found for incoming pod"

    init(
        args: JSON?, handle: FrameworkHandle, deletePod: (@Sendable (Pod) async throws -> Void)? = nil
    ) throws(SchedulerConfigError) {
        let percentage = args?["minCandidateNodesPercentage"]?.intValue ?? 10
        let absolute = args?["minCandidateNodesAbsolute"]?.intValue ?? 100
        guard (0...100).contains(percentage) else {
            throw SchedulerConfigError(
                "minCandidateNodesPercentage: Invalid value: \(percentage): not in valid range [0, 100]")
        }
        guard absolute >= 0 else {
            throw SchedulerConfigError(
                "minCandidateNodesAbsolute: Invalid value: \(absolute): not in valid range [0, inf)")
        }
        guard percentage != 0 || absolute != 0 else {
            throw SchedulerConfigError(
                "minCandidateNodesPercentage: Invalid value: 0: cannot be zero at the same time as "
                    + "minCandidateNodesAbsolute")
        }
        minCandidateNodesPercentage = Int(percentage)
        minCandidateNodesAbsolute = Int(absolute)
        self.handle = handle
        let client = handle.client
        self.deletePod =
            deletePod ?? { pod in
                guard let client else { throw PreemptionError("DefaultPreemption has no API client") }
                let path = Pod.resource.path(namespace: pod.metadata.namespace, name: pod.metadata.name)
                _ = try await client.delete(path: path)
            }
    }

    /// One node where preemption would work, with the pods it would evict (most important first).
    struct Candidate: Sendable {
        var nodeName: String
        var victims: [PodInfo]
        var pdbViolations: Int
    }

    func postFilter(state: CycleState, pod: PodInfo, diagnosis: Diagnosis, snapshot: Snapshot) async
        -> PostFilterResult
    {
        if let reason = ineligibility(pod: pod, diagnosis: diagnosis, snapshot: snapshot) {
            return PostFilterResult(.unschedulable("preemption: \(reason)"))
        }
        let schedulerName = pod.pod.spec.schedulerName ?? "default-scheduler"
        guard let profile = handle.profile(schedulerName) else {
            return PostFilterResult(.error("preemption: no profile for scheduler name \"\(schedulerName)\""))
        }
        let (candidates, statuses) = findCandidates(
            state: state, pod: pod, diagnosis: diagnosis, snapshot: snapshot, profile: profile)
        guard let best = Self.select(candidates) else {
            var failure = Diagnosis()
            failure.nodeStatuses = statuses
            let message = FitError(nodeCount: snapshot.nodes.count, diagnosis: failure).description
            // An empty nominated node clears a nomination the pod may carry from an earlier attempt.
            return PostFilterResult(.unschedulable("preemption: \(message)"), nominatedNodeName: "")
        }
        for victim in best.victims {
            do {
                try await deletePod(victim.pod)
            } catch {
                return PostFilterResult(.error("preemption: deleting pod \(victim.key): \(error)"))
            }
            handle.recordEvent(
                victim.pod, "Normal", "Preempted", "Preempting", "Preempted by pod \(pod.uid) on node \(best.nodeName)")
        }
        return PostFilterResult(.success, nominatedNodeName: best.nodeName)
    }

    /// Why the pod may not preempt, or nil (upstream's `PodEligibleToPreemptOthers`).
    func ineligibility(pod: PodInfo, diagnosis: Diagnosis, snapshot: Snapshot) -> String? {
        if pod.pod.spec.preemptionPolicy == "Never" { return "not eligible due to preemptionPolicy=Never." }
        guard let nominated = pod.pod.status.nominatedNodeName, !nominated.isEmpty else { return nil }
        // A nominated node that filters now reject for good is worth preempting on again elsewhere.
        if diagnosis.nodeStatuses[nominated]?.code == .unschedulableAndUnresolvable { return nil }
        let terminating = snapshot.node(named: nominated)?.pods.contains {
            $0.pod.metadata.deletionTimestamp != nil && $0.priority < pod.priority
        }
        return terminating == true ? "not eligible due to a terminating pod on the nominated node." : nil
    }

    /// Dry-runs preemption on the nodes where it might help, from a random offset, until enough candidates
    /// are found; also returns each node's reason when it is no candidate.
    func findCandidates(
        state: CycleState, pod: PodInfo, diagnosis: Diagnosis, snapshot: Snapshot, profile: Profile,
        offset: Int? = nil
    ) -> ([Candidate], [String: PluginStatus]) {
        var statuses: [String: PluginStatus] = [:]
        var potential: [NodeInfo] = []
        for node in snapshot.nodes {
            let status =
                diagnosis.nodeStatuses[node.name] ?? diagnosis.preFilterStatus
                ?? .unresolvable("Preemption is not helpful for scheduling")
            if status.code == .unschedulableAndUnresolvable {
                statuses[node.name] = status
            } else {
                potential.append(node)
            }
        }
        guard !potential.isEmpty else { return ([], statuses) }
        let wanted = candidateCount(potential.count)
        let start = offset ?? Int.random(in: 0..<potential.count)
        let budgets = handle.disruptionBudgets()
        var compliant: [Candidate] = []
        var violating: [Candidate] = []
        for step in 0..<potential.count {
            let node = potential[(start + step) % potential.count]
            switch selectVictims(state: state.clone(), pod: pod, node: node, budgets: budgets, profile: profile) {
            case .victims(let victims, let violations):
                let candidate = Candidate(nodeName: node.name, victims: victims, pdbViolations: violations)
                if violations == 0 { compliant.append(candidate) } else { violating.append(candidate) }
                if !compliant.isEmpty && compliant.count + violating.count >= wanted {
                    return (compliant + violating, statuses)
                }
            case .rejected(let status):
                statuses[node.name] = status
            }
        }
        return (compliant + violating, statuses)
    }

    /// How many candidates to look for among `nodes` potential ones.
    func candidateCount(_ nodes: Int) -> Int {
        min(max(nodes * minCandidateNodesPercentage / 100, minCandidateNodesAbsolute), nodes)
    }
}

/// A preemption step that failed (no client, an API error).
struct PreemptionError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

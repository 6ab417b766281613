import Client

/// Choosing victims on one node and the best node among the candidates, as upstream's preemption evaluator.
extension DefaultPreemption {
    enum NodeOutcome {
        case victims([PodInfo], pdbViolations: Int)
        case rejected(PluginStatus)
    }

    /// Removes every lower-priority pod and checks that the pod fits; then puts back (reprieves) as many as
    /// still let it fit, PDB-protected pods first, most important first. What stays removed are the victims.
    func selectVictims(
        state: CycleState, pod: PodInfo, node: NodeInfo, budgets: [PodDisruptionBudget], profile: Profile
    ) -> NodeOutcome {
        var node = node
        var potential: [PodInfo] = []
        for other in node.pods where other.priority < pod.priority {
            potential.append(other)
            node.remove(uid: other.uid)
            profile.runPreFilterRemovePod(state: state, pod: pod, other: other, node: node)
        }
        guard !potential.isEmpty else { return .rejected(.unresolvable(Self.noVictims)) }
        let fits = filter(state: state, pod: pod, node: node, profile: profile)
        guard fits.isSuccess else { return .rejected(fits) }
        potential.sort(by: Self.moreImportant)
        let (violating, compliant) = Self.splitByBudgets(potential, budgets)
        var victims: [PodInfo] = []
        var violations = 0
        for (candidates, counted) in [(violating, true), (compliant, false)] {
            for other in candidates {
                node.add(other)
                profile.runPreFilterAddPod(state: state, pod: pod, other: other, node: node)
                if filter(state: state, pod: pod, node: node, profile: profile).isSuccess { continue }
                node.remove(uid: other.uid)
                profile.runPreFilterRemovePod(state: state, pod: pod, other: other, node: node)
                victims.append(other)
                if counted { violations += 1 }
            }
        }
        victims.sort(by: Self.moreImportant)
        return .victims(victims, pdbViolations: violations)
    }

    /// The Filter plugins with pods nominated to the node at the pod's priority or higher counted as if
    /// placed (they will be), then without them (they may never come), as upstream's
    /// `RunFilterPluginsWithNominatedPods`.
    func filter(state: CycleState, pod: PodInfo, node: NodeInfo, profile: Profile) -> PluginStatus {
        let nominated = handle.nominatedPods(node.name).filter { $0.uid != pod.uid && $0.priority >= pod.priority }
        if !nominated.isEmpty {
            let withNominated = state.clone()
            var crowded = node
            for other in nominated {
                crowded.add(other)
                profile.runPreFilterAddPod(state: withNominated, pod: pod, other: other, node: crowded)
            }
            let status = profile.runFilter(state: withNominated, pod: pod, node: crowded)
            if !status.isSuccess { return status }
        }
        return profile.runFilter(state: state, pod: pod, node: node)
    }

    /// Upstream's `MoreImportantPod`: higher priority, then the earlier start (a pod not started yet is last).
    static func moreImportant(_ a: PodInfo, _ b: PodInfo) -> Bool {
        if a.priority != b.priority { return a.priority > b.priority }
        switch (a.pod.status.startTime, b.pod.status.startTime) {
        case (let x?, let y?): return x < y
        case (.some, nil): return true
        default: return false
        }
    }

    /// Splits pods into those whose eviction would exceed a budget's `disruptionsAllowed` (each matching
    /// budget is spent as pods are taken in order) and the rest, as upstream's `filterPodsWithPDBViolation`.
    static func splitByBudgets(_ pods: [PodInfo], _ budgets: [PodDisruptionBudget]) -> (
        violating: [PodInfo], compliant: [PodInfo]
    ) {
        var allowed = budgets.map { Int($0.status.disruptionsAllowed ?? 0) }
        let selectors = budgets.map { budget in
            // A nil, empty or unparsable selector protects nothing.
            (try? budget.spec.selector?.labelSelector()).flatMap { $0.isEverything ? nil : $0 }
        }
        var violating: [PodInfo] = []
        var compliant: [PodInfo] = []
        for pod in pods {
            var violated = false
            if !pod.labels.isEmpty {
                for (index, budget) in budgets.enumerated() {
                    guard budget.metadata.namespace == pod.namespace, let selector = selectors[index],
                        selector.matches(pod.labels), budget.status.disruptedPods[pod.name] == nil
                    else { continue }
                    allowed[index] -= 1
                    if allowed[index] < 0 { violated = true }
                }
            }
            if violated { violating.append(pod) } else { compliant.append(pod) }
        }
        return (violating, compliant)
    }

    /// Upstream's `pickOneNodeForPreemption`: fewest PDB violations, then the lowest highest-priority
    /// victim, the smallest sum of priorities, the fewest victims, the latest start of the most important
    /// victims; the first remaining candidate otherwise.
    static func select(_ candidates: [Candidate]) -> Candidate? {
        var remaining = candidates
        let criteria: [(Candidate) -> Int64] = [
            { -Int64($0.pdbViolations) },
            { -Int64($0.victims.first?.priority ?? 0) },
            { -$0.victims.reduce(0) { $0 + Int64($1.priority) + Int64(Int32.max) + 1 } },
            { -Int64($0.victims.count) },
        ]
        for criterion in criteria where remaining.count > 1 {
            let best = remaining.map(criterion).max() ?? 0
            remaining = remaining.filter { criterion($0) == best }
        }
        if remaining.count > 1 {
            let latest = remaining.map(earliestStart).max() ?? ""
            remaining = remaining.filter { earliestStart($0) == latest }
        }
        return remaining.first
    }

    /// The earliest start time among a candidate's highest-priority victims (RFC 3339 in UTC sorts as text;
    /// a pod not started yet counts as starting last).
    private static func earliestStart(_ candidate: Candidate) -> String {
        guard let top = candidate.victims.first?.priority else { return "" }
        let starts = candidate.victims.filter { $0.priority == top }.map { $0.pod.status.startTime ?? "~" }
        return starts.min() ?? ""
    }
}

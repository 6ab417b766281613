/// Keeps pods with `spec.schedulingGates` out of scheduling until every gate is removed.
struct SchedulingGates: PreEnqueuePlugin {
    let name = "SchedulingGates"
    let clusterEvents: Set<ClusterEvent> = []

    func preEnqueue(_ pod: PodInfo) -> PluginStatus {
        let gates = pod.pod.spec.schedulingGates.compactMap(\.name)
        guard !gates.isEmpty else { return .success }
        return .unresolvable("waiting for scheduling gates: [\(gates.joined(separator: " "))]")
    }
}

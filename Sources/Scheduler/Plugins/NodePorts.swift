/// Rejects nodes where another pod already binds a host port the pod needs.
struct NodePorts: PreFilterPlugin, FilterPlugin {
    let name = "NodePorts"
    let clusterEvents: Set<ClusterEvent> = [.assignedPodDelete, .nodeAdd, .nodeUpdate]

    func preFilter(state: CycleState, pod: PodInfo, nodes: [NodeInfo]) -> PreFilterResult {
        PreFilterResult(pod.hostPorts.isEmpty ? .skip : .success)
    }

    func filter(state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        for wanted in pod.hostPorts where node.usedPorts.contains(where: { $0.conflicts(with: wanted) }) {
            return .unschedulable("node(s) didn't have free ports for the requested pod ports")
        }
        return .success
    }
}

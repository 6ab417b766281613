/// Rejects every node but the one a pod's `spec.nodeName` names.
struct NodeName: FilterPlugin {
    let name = "NodeName"
    let clusterEvents: Set<ClusterEvent> = [.nodeAdd, .nodeUpdate]

    func filter(state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        guard let wanted = pod.pod.spec.nodeName, !wanted.isEmpty, wanted != node.name else { return .success }
        return .unresolvable("node(s) didn't match the requested node name")
    }
}

import Client

/// Rejects cordoned nodes (`spec.unschedulable`) unless the pod tolerates their unschedulable taint.
struct NodeUnschedulable: FilterPlugin {
    let name = "NodeUnschedulable"
    let clusterEvents: Set<ClusterEvent> = [.nodeAdd, .nodeUpdate]
    static let taint = Taint(key: "node.kubernetes.io/unschedulable", effect: "NoSchedule")

    func filter(state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        guard node.unschedulable else { return .success }
        if pod.pod.spec.tolerations.contains(where: { $0.tolerates(Self.taint) }) { return .success }
        return .unresolvable("node(s) were unschedulable")
    }
}

/// Orders the active queue by pod priority, then by how long the pod has waited.
struct PrioritySort: QueueSortPlugin {
    let name = "PrioritySort"
    let clusterEvents: Set<ClusterEvent> = []

    func less(_ a: QueuedPodInfo, _ b: QueuedPodInfo) -> Bool {
        let (pa, pb) = (a.podInfo.priority, b.podInfo.priority)
        return pa > pb || (pa == pb && a.timestamp < b.timestamp)
    }
}

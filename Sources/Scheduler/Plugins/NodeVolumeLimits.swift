import Client

/// Rejects nodes where the pod's CSI volumes would exceed a driver's attach limit (CSINode's allocatable
/// count, or the node's `attachable-volumes-csi-<driver>` allocatable), as upstream's NodeVolumeLimits.
/// In-tree volumes are not translated to their CSI drivers (upstream's migration), so they are not counted.
struct NodeVolumeLimits: PreFilterPlugin, FilterPlugin {
    let name = "NodeVolumeLimits"
    let clusterEvents: Set<ClusterEvent> = [.csiNodeChange, .assignedPodDelete, .persistentVolumeClaimChange]
    let handle: FrameworkHandle

    static let maxVolumeCountExceeded = "node(s) exceed max volume count"

    func preFilter(state: CycleState, pod: PodInfo, nodes: [NodeInfo]) -> PreFilterResult {
        pod.pod.claimReferences.isEmpty ? PreFilterResult(.skip) : PreFilterResult()
    }

    func filter(state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        if pod.pod.claimReferences.isEmpty { return .success }
        var wanted: [String: String] = [:]
        if let missing = attachableVolumes(of: pod, into: &wanted, newPod: true) {
            return .unresolvable(
                "looking up PVC \(pod.namespace)/\(missing): persistentvolumeclaim \"\(missing)\" not found")
        }
        if wanted.isEmpty { return .success }
        var attached: [String: String] = [:]
        for other in node.pods { _ = attachableVolumes(of: other, into: &attached, newPod: false) }
        var newCounts: [String: Int64] = [:]
        for (handle, driver) in wanted where attached[handle] == nil { newCounts[driver, default: 0] += 1 }
        var attachedCounts: [String: Int64] = [:]
        for driver in attached.values { attachedCounts[driver, default: 0] += 1 }
        let limits = self.limits(of: node)
        for (driver, count) in newCounts {
            guard let limit = limits[driver] else { continue }
            if (attachedCounts[driver] ?? 0) + count > limit { return .unschedulable(Self.maxVolumeCountExceeded) }
        }
        return .success
    }

    /// Adds the pod's CSI volumes (unique volume handle → driver) to `volumes`; returns the name of a claim
    /// that does not exist when `newPod` (a scheduled pod's missing claim is skipped, as upstream).
    private func attachableVolumes(of pod: PodInfo, into volumes: inout [String: String], newPod: Bool) -> String? {
        for reference in pod.pod.claimReferences {
            guard let claim = handle.persistentVolumeClaim(pod.namespace, reference.claimName) else {
                if newPod { return reference.claimName }
                continue
            }
            if let volumeName = claim.spec.volumeName, !volumeName.isEmpty {
                guard let csi = handle.persistentVolume(volumeName)?.spec.csi, let driver = csi.driver else { continue }
                volumes["\(driver)/\(csi.volumeHandle ?? volumeName)"] = driver
            } else if let className = claim.spec.storageClassName,
                let driver = handle.storageClass(className)?.provisioner, !driver.isEmpty
            {
                // Not provisioned yet: the claim will be one volume of its class's driver.
                volumes["\(driver)/\(pod.namespace)-\(reference.claimName)"] = driver
            }
        }
        return nil
    }

    /// Attach limits per driver: the node's allocatable first, CSINode's counts overriding them.
    private func limits(of node: NodeInfo) -> [String: Int64] {
        var limits: [String: Int64] = [:]
        let prefix = "attachable-volumes-csi-"
        for (resource, amount) in node.allocatable.scalar where resource.hasPrefix(prefix) {
            limits[String(resource.dropFirst(prefix.count))] = amount
        }
        for driver in handle.csiNode(node.name)?.spec.drivers ?? [] {
            if let name = driver.name, let count = driver.allocatable?.count { limits[name] = Int64(count) }
        }
        return limits
    }
}

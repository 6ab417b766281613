import Client

/// Rejects nodes where the pod's disks would conflict with disks already mounted there (GCE PD, AWS EBS,
/// RBD, iSCSI), and every node while another pod uses one of its ReadWriteOncePod claims, as upstream.
struct VolumeRestrictions: PreFilterPlugin, FilterPlugin {
    let name = "VolumeRestrictions"
    let clusterEvents: Set<ClusterEvent> = [.assignedPodDelete, .nodeAdd, .persistentVolumeClaimChange]
    let handle: FrameworkHandle

    static let diskConflict = "node(s) had no available disk"
    static let readWriteOncePodConflict =
        "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode"

    /// The pod's ReadWriteOncePod claims (`namespace/name`) and how many scheduled pods use them.
    struct ReadWriteOncePodState: Sendable {
        var claims: Set<String>
        var conflicts: Int
    }

    func preFilter(state: CycleState, pod: PodInfo, nodes: [NodeInfo]) -> PreFilterResult {
        var claims: Set<String> = []
        for reference in pod.pod.claimReferences {
            guard let claim = handle.persistentVolumeClaim(pod.namespace, reference.claimName) else {
                return PreFilterResult(.unresolvable("persistentvolumeclaim \"\(reference.claimName)\" not found"))
            }
            if claim.spec.accessModes.contains("ReadWriteOncePod") {
                claims.insert("\(pod.namespace)/\(reference.claimName)")
            }
        }
        var conflicts = 0
        if !claims.isEmpty {
            for node in nodes {
                for other in node.pods { conflicts += Self.uses(other, of: claims) }
            }
        }
        let needsDiskCheck = pod.pod.spec.volumes.contains(where: \.isConflictChecked)
        if !needsDiskCheck && conflicts == 0 { return PreFilterResult(.skip) }
        state.write(ReadWriteOncePodState(claims: claims, conflicts: conflicts))
        return PreFilterResult()
    }

    func addPod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo) {
        update(state, other, by: 1)
    }

    func removePod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo) {
        update(state, other, by: -1)
    }

    private func update(_ state: CycleState, _ other: PodInfo, by sign: Int) {
        guard var current = state.read(ReadWriteOncePodState.self), !current.claims.isEmpty else { return }
        current.conflicts += sign * Self.uses(other, of: current.claims)
        state.write(current)
    }

    /// How many of `claims` the pod's volumes refer to.
    private static func uses(_ pod: PodInfo, of claims: Set<String>) -> Int {
        pod.pod.claimReferences.filter { claims.contains("\(pod.namespace)/\($0.claimName)") }.count
    }

    func filter(state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        for volume in pod.pod.spec.volumes where volume.isConflictChecked {
            for other in node.pods where other.pod.spec.volumes.contains(where: volume.conflicts(with:)) {
                return .unschedulable(Self.diskConflict)
            }
        }
        if state.read(ReadWriteOncePodState.self, { $0.conflicts > 0 }) == true {
            return .unschedulable(Self.readWriteOncePodConflict)
        }
        return .success
    }
}

extension Volume {
    /// A disk that only one node (or one writer) may mount at a time.
    var isConflictChecked: Bool {
        gcePersistentDisk != nil || awsElasticBlockStore != nil || rbd != nil || iscsi != nil
    }

    /// Upstream's `isVolumeConflict`: the same disk mounted twice, unless both mounts are read-only (EBS
    /// cannot be shared even read-only).
    func conflicts(with other: Volume) -> Bool {
        if let disk = gcePersistentDisk, let existing = other.gcePersistentDisk, disk.pdName == existing.pdName {
            return !(disk.readOnly == true && existing.readOnly == true)
        }
        if let disk = awsElasticBlockStore, let existing = other.awsElasticBlockStore,
            disk.volumeID == existing.volumeID
        {
            return true
        }
        if let disk = iscsi, let existing = other.iscsi, disk.iqn == existing.iqn {
            return !(disk.readOnly == true && existing.readOnly == true)
        }
        if let disk = rbd, let existing = other.rbd, !Set(disk.monitors).isDisjoint(with: existing.monitors),
            disk.pool == existing.pool, disk.image == existing.image
        {
            return !(disk.readOnly == true && existing.readOnly == true)
        }
        return false
    }
}

import Client

/// Rejects nodes outside the zones and regions of the persistent volumes the pod's claims are bound to,
/// as upstream's VolumeZone.
struct VolumeZone: PreFilterPlugin, FilterPlugin {
    let name = "VolumeZone"
    let clusterEvents: Set<ClusterEvent> = [
        .storageClassChange, .nodeAdd, .nodeUpdate, .persistentVolumeClaimChange, .persistentVolumeChange,
    ]
    let handle: FrameworkHandle

    static let conflict = "node(s) had no available volume zone"
    /// The node and volume labels that carry topology, current and deprecated.
    static let topologyLabels = [
        "topology.kubernetes.io/zone", "topology.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region",
    ]

    /// The bound volumes' topology: label key and the values it may take (`__` joins several zones).
    struct Topologies: Sendable {
        var constraints: [(key: String, values: Set<String>)]
    }

    func preFilter(state: CycleState, pod: PodInfo, nodes: [NodeInfo]) -> PreFilterResult {
        var constraints: [(key: String, values: Set<String>)] = []
        for volume in pod.pod.spec.volumes {
            guard let source = volume.persistentVolumeClaim else { continue }
            guard let claimName = source.claimName, !claimName.isEmpty else {
                return PreFilterResult(.unresolvable("PersistentVolumeClaim had no name"))
            }
            guard let claim = handle.persistentVolumeClaim(pod.namespace, claimName) else {
                return PreFilterResult(.unresolvable("persistentvolumeclaim \"\(claimName)\" not found"))
            }
            guard let volumeName = claim.spec.volumeName, !volumeName.isEmpty else {
                // A claim that waits for its first consumer gets a volume where the pod lands: no constraint.
                guard let className = claim.spec.storageClassName, !className.isEmpty else {
                    return PreFilterResult(.unresolvable("PersistentVolumeClaim had no pv name and storageClass name"))
                }
                guard let storageClass = handle.storageClass(className) else {
                    return PreFilterResult(.unresolvable("storageclass.storage.k8s.io \"\(className)\" not found"))
                }
                if storageClass.volumeBindingMode == "WaitForFirstConsumer" { continue }
                return PreFilterResult(.unresolvable("PersistentVolume had no name"))
            }
            guard let persistentVolume = handle.persistentVolume(volumeName) else {
                return PreFilterResult(.unresolvable("persistentvolume \"\(volumeName)\" not found"))
            }
            for key in Self.topologyLabels {
                guard let value = persistentVolume.metadata.labels[key] else { continue }
                let values = value.split(separator: "__", omittingEmptySubsequences: true).map(String.init)
                constraints.append((key, Set(values)))
            }
        }
        guard !constraints.isEmpty else { return PreFilterResult(.skip) }
        state.write(Topologies(constraints: constraints))
        return PreFilterResult()
    }

    func filter(state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        let labels = node.labels
        // A node without any topology label predates zones: upstream lets any volume through.
        guard Self.topologyLabels.contains(where: { labels[$0] != nil }) else { return .success }
        let admitted = state.read(Topologies.self) { topologies in
            topologies.constraints.allSatisfy { constraint in
                labels[constraint.key].map(constraint.values.contains) ?? false
            }
        }
        return admitted == false ? .unresolvable(Self.conflict) : .success
    }
}

import APIMachinery
public import Client

/// Upstream's stateful set pod identity and ordering rules as pure functions: ordinals parsed from and put
/// into names, the labels and volumes a pod of an ordinal carries, which template it gets during a
/// rollout, and the order pods are created, deleted and updated in.
public enum StatefulSetIdentity {
    /// The label naming a pod for its Service (`statefulset.kubernetes.io/pod-name`).
    public static let podNameLabel = "statefulset.kubernetes.io/pod-name"
    /// The label carrying a pod's ordinal (`apps.kubernetes.io/pod-index`).
    public static let podIndexLabel = "apps.kubernetes.io/pod-index"
    /// The label naming the ControllerRevision a pod was made from.
    public static let revisionLabel = "controller-revision-hash"

    /// `spec.replicas`, defaulted to 1.
    public static func replicas(_ set: StatefulSet) -> Int { Int(set.spec.replicas ?? 1) }

    /// The first ordinal (`spec.ordinals.start`, 0 by default).
    public static func startOrdinal(_ set: StatefulSet) -> Int { Int(set.spec.ordinals?.start ?? 0) }

    /// Whether pods start and stop one at a time (`OrderedReady`, the default) rather than in parallel.
    public static func isOrdered(_ set: StatefulSet) -> Bool { set.spec.podManagementPolicy != "Parallel" }

    /// Whether pods are replaced by the controller (`RollingUpdate`, the default) rather than on deletion.
    public static func isRollingUpdate(_ set: StatefulSet) -> Bool { set.spec.updateStrategy?.type != "OnDelete" }

    /// The RollingUpdate partition: ordinals below it keep the current revision.
    public static func partition(_ set: StatefulSet) -> Int {
        Int(set.spec.updateStrategy?.rollingUpdate?.partition ?? 0)
    }

    /// `<set>-<ordinal>`.
    public static func podName(_ set: StatefulSet, ordinal: Int) -> String { "\(set.metadata.name ?? "")-\(ordinal)" }

    /// The ordinal of a pod named `<set>-<ordinal>`, or nil for a pod that is not a member by name.
    public static func ordinal(of podName: String, setName: String) -> Int? {
        let prefix = setName + "-"
        guard podName.hasPrefix(prefix), let value = Int(podName.dropFirst(prefix.count)), value >= 0,
            String(value) == podName.dropFirst(prefix.count)
        else { return nil }
        return value
    }

    /// Whether ordinal `ordinal` is within the set's wanted range.
    public static func isWanted(_ set: StatefulSet, ordinal: Int) -> Bool {
        let start = startOrdinal(set)
        return ordinal >= start && ordinal < start + replicas(set)
    }

    /// `<claim>-<set>-<ordinal>`, the claim a pod of `ordinal` mounts for `template`.
    public static func claimName(_ template: PersistentVolumeClaim, set: StatefulSet, ordinal: Int) -> String {
        "\(template.metadata.name ?? "")-\(podName(set, ordinal: ordinal))"
    }

    /// Whether a pod of `ordinal` is made from the current revision's template rather than the update's:
    /// below the partition during a RollingUpdate, as upstream's `newVersionedStatefulSetPod`.
    public static func usesCurrentRevision(_ set: StatefulSet, ordinal: Int) -> Bool {
        isRollingUpdate(set) && ordinal < startOrdinal(set) + partition(set)
    }

    /// The pod of `ordinal` from `template`: named, labelled and given its hostname, subdomain and
    /// claims, owned by `set`, labelled with `revision`.
    public static func pod(
        _ set: StatefulSet, template: PodTemplateSpec, ordinal: Int, revision: String
    ) -> Pod {
        let name = podName(set, ordinal: ordinal)
        var pod = PodControl.pod(from: template, owner: set, name: name)
        pod.metadata.generateName = nil
        pod.metadata.labels[podNameLabel] = name
        pod.metadata.labels[podIndexLabel] = String(ordinal)
        pod.metadata.labels[revisionLabel] = revision
        pod.spec.hostname = name
        if let service = set.spec.serviceName, !service.isEmpty { pod.spec.subdomain = service }
        for claim in set.spec.volumeClaimTemplates {
            var source = PersistentVolumeClaimVolumeSource()
            source.claimName = claimName(claim, set: set, ordinal: ordinal)
            var volume = Volume()
            volume.name = claim.metadata.name ?? ""
            volume.persistentVolumeClaim = source
            pod.spec.volumes.removeAll { $0.name == volume.name }
            pod.spec.volumes.append(volume)
        }
        return pod
    }

    /// The claim for `template` and `ordinal`: labelled with the set's selector labels, owned by the set or
    /// the pod only under a `Delete` retention policy (none by default: `Retain`).
    public static func claim(_ template: PersistentVolumeClaim, set: StatefulSet, ordinal: Int) -> PersistentVolumeClaim
    {
        var claim = template
        claim.metadata = ObjectMeta()
        claim.metadata.name = claimName(template, set: set, ordinal: ordinal)
        claim.metadata.namespace = set.metadata.namespace
        claim.metadata.labels = template.metadata.labels
        for (key, value) in set.spec.selector?.matchLabels ?? [:] { claim.metadata.labels[key] = value }
        claim.metadata.annotations = template.metadata.annotations
        if set.spec.persistentVolumeClaimRetentionPolicy?.whenDeleted == "Delete" {
            claim.metadata.ownerReferences = [OwnerReference(controller: set)]
        }
        claim.status = PersistentVolumeClaimStatus()
        return claim
    }

    /// Running with a `Ready` condition, not being deleted (upstream's `isRunningAndReady`).
    public static func isRunningAndReady(_ pod: Pod) -> Bool {
        pod.status.phase == "Running" && PodAvailability.isReady(pod) && !pod.metadata.isDeleting
    }

    /// Finished pods are replaced (upstream's `isFailed`/`isSucceeded`).
    public static func isFinished(_ pod: Pod) -> Bool {
        pod.status.phase == "Failed" || pod.status.phase == "Succeeded"
    }

    /// The ordinals to bring to the update revision, highest first, stopping at the partition: the
    /// RollingUpdate order.
    public static func updateOrder(_ set: StatefulSet) -> [Int] {
        let start = startOrdinal(set)
        let end = start + replicas(set)
        let floor = start + partition(set)
        guard floor < end else { return [] }
        return Array((floor..<end).reversed())
    }

    /// `claimed` split into the pods to keep, indexed by ordinal, and the condemned (out of range or
    /// duplicate), highest ordinal first, the order they are deleted in.
    public static func split(
        _ claimed: [Pod], set: StatefulSet
    ) -> (replicas: [Int: Pod], condemned: [Pod]) {
        var replicas: [Int: Pod] = [:]
        var condemned: [(Int, Pod)] = []
        let setName = set.metadata.name ?? ""
        for pod in claimed {
            guard let ordinal = ordinal(of: pod.metadata.name ?? "", setName: setName) else { continue }
            if isWanted(set, ordinal: ordinal) {
                replicas[ordinal] = pod
            } else {
                condemned.append((ordinal, pod))
            }
        }
        return (replicas, condemned.sorted { $0.0 > $1.0 }.map(\.1))
    }
}

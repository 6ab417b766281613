import APIMachinery
import Client

/// The persistent volume binder's pure rules, as upstream's `storage/util` helpers and the volume index: which
/// class a claim or volume is of, whether a volume satisfies a claim, and which Available volume a claim gets.
enum VolumeMatching {
    /// Set on a claim once the controller finished binding it; a claim without it is "unbound".
    static let bindCompleted = "pv.kubernetes.io/bind-completed"
    /// Set on the side of a binding the controller (not the user) filled in.
    static let boundByController = "pv.kubernetes.io/bound-by-controller"
    /// The node the scheduler picked for a WaitForFirstConsumer claim's first pod.
    static let selectedNode = "volume.kubernetes.io/selected-node"
    /// Who provisioned a volume dynamically (a plugin or an external provisioner's name).
    static let provisionedBy = "pv.kubernetes.io/provisioned-by"
    /// The provisioner a claim waits for, under the beta and GA names, as external provisioners read them.
    static let provisionerAnnotations = [
        "volume.beta.kubernetes.io/storage-provisioner", "volume.kubernetes.io/storage-provisioner",
    ]
    /// The deprecated annotation that still wins over `storageClassName`.
    static let betaStorageClass = "volume.beta.kubernetes.io/storage-class"
    static let defaultClassAnnotations = [
        "storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class",
    ]

    /// The claim's class: the beta annotation if set, else `storageClassName`, else "" (upstream's
    /// `GetPersistentVolumeClaimClass`).
    static func claimClass(_ claim: PersistentVolumeClaim) -> String {
        claim.metadata.annotations[betaStorageClass] ?? claim.spec.storageClassName ?? ""
    }

    /// The volume's class, read the same way as a claim's.
    static func volumeClass(_ volume: PersistentVolume) -> String {
        volume.metadata.annotations[betaStorageClass] ?? volume.spec.storageClassName ?? ""
    }

    /// Whether the two `volumeMode`s differ, an unset one meaning `Filesystem`.
    static func volumeModeMismatch(_ claim: PersistentVolumeClaim, _ volume: PersistentVolume) -> Bool {
        (claim.spec.volumeMode ?? "Filesystem") != (volume.spec.volumeMode ?? "Filesystem")
    }

    /// Whether the volume offers every access mode the claim asks for.
    static func accessModesSatisfied(_ claim: PersistentVolumeClaim, _ volume: PersistentVolume) -> Bool {
        Set(claim.spec.accessModes).isSubset(of: volume.spec.accessModes)
    }

    /// The claim's storage request, zero when it asks for none.
    static func requested(_ claim: PersistentVolumeClaim) -> Quantity {
        claim.spec.resources?.requests["storage"] ?? Quantity()
    }

    /// The volume's storage capacity, zero when it states none.
    static func capacity(_ volume: PersistentVolume) -> Quantity {
        volume.spec.capacity["storage"] ?? Quantity()
    }

    /// Whether the volume's `claimRef` names this claim (and, when it carries a UID, this very claim).
    static func isBound(_ volume: PersistentVolume, to claim: PersistentVolumeClaim) -> Bool {
        guard let reference = volume.spec.claimRef, reference.name == claim.metadata.name,
            (reference.namespace ?? "") == (claim.metadata.namespace ?? "")
        else { return false }
        let uid = reference.uid ?? ""
        return uid.isEmpty || uid == claim.metadata.uid
    }

    /// Why the volume a claim names in `spec.volumeName` cannot serve it, as upstream's
    /// `checkVolumeSatisfyClaim` words it; nil when it can.
    static func mismatch(_ volume: PersistentVolume, _ claim: PersistentVolumeClaim) -> String? {
        if volume.metadata.deletionTimestamp != nil {
            return "the volume is marked for deletion \"\(volume.metadata.name ?? "")\""
        }
        if capacity(volume).value < requested(claim).value { return "requested PV is too small" }
        if volumeClass(volume) != claimClass(claim) { return "storageClassName does not match" }
        if volumeModeMismatch(claim, volume) { return "incompatible volumeMode" }
        if !accessModesSatisfied(claim, volume) { return "incompatible accessMode" }
        return nil
    }

    /// Whether the node's labels satisfy the volume's required node affinity (no affinity admits any node).
    static func nodeAffinityAdmits(_ volume: PersistentVolume, node: Node) -> Bool {
        guard let terms = volume.spec.nodeAffinity?.required?.nodeSelectorTerms else { return true }
        let labels = node.metadata.labels
        return terms.contains { term in
            guard !term.matchExpressions.isEmpty || !term.matchFields.isEmpty else { return false }
            return term.matchExpressions.allSatisfy { DaemonSetRules.matches($0, value: labels[$0.key ?? ""]) }
                && term.matchFields.allSatisfy {
                    $0.key == "metadata.name" && DaemonSetRules.matches($0, value: node.metadata.name)
                }
        }
    }

    /// The volume a claim should bind to, as upstream's `findByClaim`: a volume pre-bound to the claim wins
    /// outright; otherwise the volumes are grouped by their access-mode sets, the groups that offer every mode
    /// the claim asks for are tried fewest modes first, and in the first group with a match the smallest
    /// Available volume of the claim's class, size, volume mode and selector is taken. With `delayBinding` and no
    /// `node` only pre-bound volumes count (the scheduler's side picks the rest); with a `node`, its affinity must
    /// admit the volume.
    static func bestMatch(
        for claim: PersistentVolumeClaim, among volumes: [PersistentVolume], node: Node? = nil,
        delayBinding: Bool = false
    ) throws -> PersistentVolume? {
        let selector = try claim.spec.selector.map { selector throws(APIError) in try selector.labelSelector() }
        let wanted = Set(claim.spec.accessModes)
        var groups: [Set<String>: [PersistentVolume]] = [:]
        for volume in volumes { groups[Set(volume.spec.accessModes), default: []].append(volume) }
        let candidates = groups.keys.filter { wanted.isSubset(of: $0) }.sorted {
            $0.count != $1.count
                ? $0.count < $1.count : $0.sorted().joined(separator: ",") < $1.sorted().joined(separator: ",")
        }
        for modes in candidates {
            let group = (groups[modes] ?? []).sorted { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }
            if let match = smallestMatch(
                claim, group, selector: selector, node: node, delayBinding: delayBinding)
            {
                return match
            }
        }
        return nil
    }

    /// Upstream's `FindMatchingVolume` over one access-mode group.
    private static func smallestMatch(
        _ claim: PersistentVolumeClaim, _ volumes: [PersistentVolume], selector: LabelSelector?, node: Node?,
        delayBinding: Bool
    ) -> PersistentVolume? {
        let request = requested(claim)
        let className = claimClass(claim)
        var smallest: PersistentVolume?
        for volume in volumes {
            if volume.spec.claimRef != nil && !isBound(volume, to: claim) { continue }
            let size = capacity(volume)
            if size < request || volumeModeMismatch(claim, volume) || volume.metadata.deletionTimestamp != nil {
                continue
            }
            let affinityAdmits = node.map { nodeAffinityAdmits(volume, node: $0) } ?? true
            if isBound(volume, to: claim) { return affinityAdmits ? volume : nil }
            if node == nil && delayBinding { continue }
            guard volume.status.phase == "Available",
                selector?.matches(volume.metadata.labels) ?? true,
                volumeClass(volume) == className, affinityAdmits
            else { continue }
            if node != nil && !accessModesSatisfied(claim, volume) { continue }
            if let current = smallest, capacity(current) <= size { continue }
            smallest = volume
        }
        return smallest
    }

    /// The cluster's default StorageClass: of the classes annotated default, the newest, ties by name (upstream's
    /// `GetDefaultClass`); nil when none is.
    static func defaultClass(_ classes: [StorageClass]) -> StorageClass? {
        classes.filter { storageClass in
            defaultClassAnnotations.contains { storageClass.metadata.annotations[$0] == "true" }
        }.max { lhs, rhs in
            let left = lhs.metadata.creationTimestamp ?? ""
            let right = rhs.metadata.creationTimestamp ?? ""
            return left != right ? left < right : (lhs.metadata.name ?? "") > (rhs.metadata.name ?? "")
        }
    }

    /// Whether a claim's provisioner is one of the in-tree `kubernetes.io/` names, which have no plugin here
    /// (upstream fails those with "no volume plugin matched"); any other name is an external provisioner's.
    static func isInTree(_ provisioner: String) -> Bool {
        provisioner.hasPrefix("kubernetes.io/")
    }
}

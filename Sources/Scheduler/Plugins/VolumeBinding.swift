import Client

/// Checks the pod's persistent volume claims as upstream's VolumeBinding does for claims that are already
/// bound: every claim must exist, immediate claims must be bound, and the bound volumes' node affinity must
/// admit the node. Binding and dynamic provisioning of WaitForFirstConsumer claims are not done yet: such a
/// claim finds no volume, as upstream's outcome when no volume matches and the class has no provisioner.
struct VolumeBinding: PreFilterPlugin, FilterPlugin {
    let name = "VolumeBinding"
    let clusterEvents: Set<ClusterEvent> = [
        .storageClassChange, .persistentVolumeClaimChange, .persistentVolumeChange, .nodeAdd, .nodeUpdate,
        .csiNodeChange,
    ]
    let handle: FrameworkHandle

    static let unboundImmediate = "pod has unbound immediate PersistentVolumeClaims"
    static let nodeConflict = "node(s) had volume node affinity conflict"
    static let bindConflict = "node(s) didn't find available persistent volumes to bind"
    static let volumeMissing = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"

    /// The pod's claims, split as upstream's `podVolumeClaims`.
    struct Claims: Sendable {
        var bound: [PersistentVolumeClaim] = []
        /// WaitForFirstConsumer claims without a volume.
        var delayed: [PersistentVolumeClaim] = []
    }

    func preFilter(state: CycleState, pod: PodInfo, nodes: [NodeInfo]) -> PreFilterResult {
        let references = pod.pod.claimReferences
        guard !references.isEmpty else { return PreFilterResult(.skip) }
        var claims = Claims()
        var unboundImmediate = false
        for reference in references {
            guard let claim = handle.persistentVolumeClaim(pod.namespace, reference.claimName) else {
                if reference.ephemeral {
                    return PreFilterResult(
                        .unresolvable(
                            "waiting for ephemeral volume controller to create the persistentvolumeclaim "
                                + "\"\(reference.claimName)\""))
                }
                return PreFilterResult(.unresolvable("persistentvolumeclaim \"\(reference.claimName)\" not found"))
            }
            if claim.metadata.deletionTimestamp != nil {
                return PreFilterResult(
                    .unresolvable("persistentvolumeclaim \"\(reference.claimName)\" is being deleted"))
            }
            if let volumeName = claim.spec.volumeName, !volumeName.isEmpty {
                claims.bound.append(claim)
                continue
            }
            switch bindingMode(of: claim) {
            case .delayed: claims.delayed.append(claim)
            case .immediate: unboundImmediate = true
            case .missingClass(let className):
                return PreFilterResult(.error("storageclass.storage.k8s.io \"\(className)\" not found"))
            }
        }
        if unboundImmediate { return PreFilterResult(.unresolvable(Self.unboundImmediate)) }
        state.write(claims)
        return PreFilterResult()
    }

    /// Whether the claim's class delays binding (WaitForFirstConsumer); a class that is named but missing
    /// is an error, as upstream's `IsDelayBindingMode`.
    private func bindingMode(of claim: PersistentVolumeClaim) -> BindingMode {
        guard let className = claim.spec.storageClassName, !className.isEmpty else { return .immediate }
        guard let storageClass = handle.storageClass(className) else { return .missingClass(className) }
        return storageClass.volumeBindingMode == "WaitForFirstConsumer" ? .delayed : .immediate
    }

    private enum BindingMode {
        case immediate
        case delayed
        case missingClass(String)
    }

    func filter(state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        state.read(Claims.self) { claims in filter(claims, node: node) } ?? .success
    }

    private func filter(_ claims: borrowing Claims, node: NodeInfo) -> PluginStatus {
        var reasons: [String] = []
        for claim in claims.bound {
            guard let volume = handle.persistentVolume(claim.spec.volumeName ?? "") else {
                reasons.append(Self.volumeMissing)
                break
            }
            if !Self.nodeAffinityAdmits(volume, node.node) {
                reasons.append(Self.nodeConflict)
                break
            }
        }
        if !claims.delayed.isEmpty { reasons.append(Self.bindConflict) }
        return reasons.isEmpty ? .success : PluginStatus(.unschedulableAndUnresolvable, reasons)
    }

    /// A volume without required node affinity may be used anywhere; otherwise one of its terms must match.
    static func nodeAffinityAdmits(_ volume: PersistentVolume, _ node: Node) -> Bool {
        guard let terms = volume.spec.nodeAffinity?.required?.nodeSelectorTerms else { return true }
        return terms.contains { $0.matches(node) }
    }
}

/// A claim a pod's volume refers to: a `persistentVolumeClaim` source, or the claim a generic ephemeral
/// volume gets (`<pod>-<volume>`).
struct ClaimReference: Sendable, Hashable {
    var claimName: String
    var ephemeral: Bool
}

extension Pod {
    /// The claims of the pod's volumes, in volume order.
    var claimReferences: [ClaimReference] {
        spec.volumes.compactMap { volume in
            if let claimName = volume.persistentVolumeClaim?.claimName {
                return ClaimReference(claimName: claimName, ephemeral: false)
            }
            if volume.ephemeral != nil, let volumeName = volume.name {
                return ClaimReference(claimName: "\(metadata.name ?? "")-\(volumeName)", ephemeral: true)
            }
            return nil
        }
    }
}

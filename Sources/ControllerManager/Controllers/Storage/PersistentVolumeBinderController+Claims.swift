import APIMachinery
import Client

extension PersistentVolumeBinderController {
    /// One claim's sync, as upstream's `syncClaim`: a claim without `bind-completed` is still being bound.
    func syncClaim(_ key: ObjectKey) async throws {
        guard let claim = claims.get(namespace: key.namespace, name: key.name) else { return }
        if claim.metadata.annotations[VolumeMatching.bindCompleted] == nil {
            try await syncUnboundClaim(claim)
        } else {
            try await syncBoundClaim(claim)
        }
    }

    /// A claim not yet bound: find it a volume, or wait for one (a first consumer, a provisioner, an administrator).
    private func syncUnboundClaim(_ claim: PersistentVolumeClaim) async throws {
        guard let volumeName = claim.spec.volumeName, !volumeName.isEmpty else {
            try await bindToBestMatch(claim)
            return
        }
        // The user named the volume.
        guard let volume = volumes.get(name: volumeName) else {
            try await setClaimStatus(claim, "Pending", volume: nil)
            return
        }
        if volume.spec.claimRef == nil {
            if let reason = VolumeMatching.mismatch(volume, claim) {
                event(claim, .warning, "VolumeMismatch", "Cannot bind to requested volume \"\(volumeName)\": \(reason)")
                try await setClaimStatus(claim, "Pending", volume: nil)
            } else {
                try await bind(volume, claim)
            }
        } else if VolumeMatching.isBound(volume, to: claim) {
            try await bind(volume, claim)
        } else {
            event(claim, .warning, "FailedBinding", "volume \"\(volumeName)\" already bound to a different claim.")
            guard claim.metadata.annotations[VolumeMatching.boundByController] == nil else {
                // Someone removed bind-completed from a claim this controller bound: never rebind it silently.
                throw BinderError(
                    description: "invalid binding of claim \"\(claim.key)\" to volume \"\(volumeName)\": "
                        + "volume already claimed by \"\(volume.spec.claimRef?.namespace ?? "")/"
                        + "\(volume.spec.claimRef?.name ?? "")\"")
            }
            try await setClaimStatus(claim, "Pending", volume: nil)
        }
    }

    /// A claim that names no volume: the best match, else a default class, a first consumer or a provisioner.
    private func bindToBestMatch(_ claim: PersistentVolumeClaim) async throws {
        let delayBinding = isDelayBinding(claim)
        let selectedNode = claim.metadata.annotations[VolumeMatching.selectedNode].flatMap { $0.isEmpty ? nil : $0 }
        // The scheduler here does not pre-bind volumes for WaitForFirstConsumer claims, so once it has picked the
        // pod's node (selected-node) this controller matches against that node, as upstream's scheduler would.
        let node = delayBinding ? selectedNode.flatMap { nodes.get(name: $0) } : nil
        let match = try VolumeMatching.bestMatch(
            for: claim, among: volumes.list(), node: node, delayBinding: delayBinding)
        if let match {
            try await bind(match, claim)
            return
        }
        if try await assignDefaultClass(claim) { return }
        let className = VolumeMatching.claimClass(claim)
        if delayBinding && selectedNode == nil {
            waitForFirstConsumerEvent(claim)
        } else if !className.isEmpty {
            try await provision(claim, className: className)
            return
        } else {
            event(
                claim, .normal, "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set")
        }
        try await setClaimStatus(claim, "Pending", volume: nil)
    }

    /// Whether the claim's class binds only once a pod uses it (`WaitForFirstConsumer`); a missing class does not.
    func isDelayBinding(_ claim: PersistentVolumeClaim) -> Bool {
        let className = VolumeMatching.claimClass(claim)
        guard !className.isEmpty, let storageClass = classes.get(name: className) else { return false }
        return storageClass.volumeBindingMode == "WaitForFirstConsumer"
    }

    /// A claim created without a class gets the default class once there is one (upstream's retroactive
    /// default StorageClass assignment); true when the claim was updated, which syncs it again.
    private func assignDefaultClass(_ claim: PersistentVolumeClaim) async throws -> Bool {
        guard claim.spec.storageClassName == nil, claim.metadata.annotations[VolumeMatching.betaStorageClass] == nil,
            let storageClass = VolumeMatching.defaultClass(classes.list())
        else { return false }
        var updated = claim
        updated.spec.storageClassName = storageClass.metadata.name
        _ = try await claimClient(claim).update(updated)
        return true
    }

    /// Upstream's event for a delayed claim: which unscheduled pods it waits for, or its first consumer.
    private func waitForFirstConsumerEvent(_ claim: PersistentVolumeClaim) {
        let waiting = pods.list(namespace: claim.metadata.namespace ?? "").filter { pod in
            (pod.spec.nodeName ?? "").isEmpty
                && pod.spec.volumes.contains { $0.persistentVolumeClaim?.claimName == claim.metadata.name }
        }.compactMap(\.metadata.name)
        switch waiting.count {
        case 0:
            event(claim, .normal, "WaitForFirstConsumer", "waiting for first consumer to be created before binding")
        case 1:
            event(claim, .normal, "WaitForPodScheduled", "waiting for pod \(waiting[0]) to be scheduled")
        default:
            event(
                claim, .normal, "WaitForPodScheduled",
                "waiting for pods \(waiting.joined(separator: ",")) to be scheduled")
        }
    }

    /// Dynamic provisioning without plugins: an external provisioner is asked for through the claim's annotations
    /// and told about in an event; an in-tree (`kubernetes.io/`) provisioner has no plugin here, as upstream
    /// reports when a plugin is missing.
    private func provision(_ claim: PersistentVolumeClaim, className: String) async throws {
        guard let storageClass = classes.get(name: className) else {
            event(
                claim, .warning, "ProvisioningFailed", "storageclass.storage.k8s.io \"\(className)\" not found",
                action: "Provisioning")
            return
        }
        let provisioner = storageClass.provisioner ?? ""
        guard !VolumeMatching.isInTree(provisioner) else {
            event(
                claim, .warning, "ProvisioningFailed", "no volume plugin matched name: \(provisioner)",
                action: "Provisioning")
            return
        }
        var updated = claim
        for annotation in VolumeMatching.provisionerAnnotations {
            updated.metadata.annotations[annotation] = provisioner
        }
        let current = updated == claim ? claim : try await claimClient(claim).update(updated)
        event(
            current, .normal, "ExternalProvisioning",
            "Waiting for a volume to be created either by the external provisioner '\(provisioner)' or manually by "
                + "the system administrator. If volume creation is delayed, please verify that the provisioner is "
                + "running and correctly registered.", action: "Provisioning")
    }

    /// A claim this controller bound before: keep it Bound, or Lost when its volume went away or serves another.
    private func syncBoundClaim(_ claim: PersistentVolumeClaim) async throws {
        guard let volumeName = claim.spec.volumeName, !volumeName.isEmpty else {
            try await setClaimStatus(
                claim, "Lost", event: .warning, "ClaimLost",
                "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!")
            return
        }
        guard let volume = volumes.get(name: volumeName) else {
            try await setClaimStatus(
                claim, "Lost", event: .warning, "ClaimLost",
                "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
            return
        }
        if volume.spec.claimRef == nil || volume.spec.claimRef?.uid == claim.metadata.uid {
            // Either all is well (bind writes nothing) or the volume's side was undone: bind it again.
            try await bind(volume, claim)
        } else {
            try await setClaimStatus(
                claim, "Lost", event: .warning, "ClaimMisbound",
                "Two claims are bound to the same volume, this one is bound incorrectly")
        }
    }
}

/// A binding state the controller refuses to repair on its own; the claim is retried with backoff.
struct BinderError: Error, CustomStringConvertible {
    var description: String
}

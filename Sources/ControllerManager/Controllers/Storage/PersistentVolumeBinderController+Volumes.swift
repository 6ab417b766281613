import APIMachinery
import Client

extension PersistentVolumeBinderController {
    /// One volume's sync, as upstream's `syncVolume`: its phase follows its claim, and a volume whose claim is
    /// gone is released and reclaimed by its policy.
    func syncVolume(_ key: ObjectKey) async throws {
        guard let volume = volumes.get(name: key.name) else { return }
        guard let reference = volume.spec.claimRef else {
            try await setPhase(volume, "Available")
            return
        }
        guard let claimUID = reference.uid, !claimUID.isEmpty else {
            // Pre-bound by the user to a claim that has not bound yet; the claim's sync finishes it.
            try await setPhase(volume, "Available")
            return
        }
        let claim = try await boundClaim(of: volume, reference: reference)
        guard let claim else {
            var released = volume
            if volume.status.phase != "Released" && volume.status.phase != "Failed" {
                released = try await setPhase(volume, "Released")
            }
            try await reclaim(released)
            return
        }
        let claimedVolume = claim.spec.volumeName ?? ""
        if claimedVolume.isEmpty {
            if VolumeMatching.volumeModeMismatch(claim, volume) {
                event(
                    volume, .warning, "VolumeMismatch",
                    "Cannot bind PersistentVolume to requested PersistentVolumeClaim \"\(claim.metadata.name ?? "")\" "
                        + "due to incompatible volumeMode.")
                event(
                    claim, .warning, "VolumeMismatch",
                    "Cannot bind PersistentVolume \"\(volume.metadata.name ?? "")\" to requested "
                        + "PersistentVolumeClaim due to incompatible volumeMode.")
                return
            }
            // The volume is bound and the claim still pending: the claim's sync completes the pair.
            claimQueue.add(claim.key)
        } else if claimedVolume == volume.metadata.name {
            try await setPhase(volume, "Bound")
        } else if volume.metadata.annotations[VolumeMatching.provisionedBy] != nil
            && volume.spec.persistentVolumeReclaimPolicy == "Delete"
        {
            // Provisioned for this claim, which got another volume: this one is not needed.
            var released = volume
            if volume.status.phase != "Released" && volume.status.phase != "Failed" {
                released = try await setPhase(volume, "Released")
            }
            try await reclaim(released)
        } else {
            try await unbind(volume)
        }
    }

    /// The claim the volume's `claimRef` names, if it still exists with that UID. A claim missing from the cache is
    /// looked up on the server before a volume is released, so a slow cache never reclaims a volume in use.
    private func boundClaim(of volume: PersistentVolume, reference: ObjectReference) async throws
        -> PersistentVolumeClaim?
    {
        let namespace = reference.namespace ?? ""
        let name = reference.name ?? ""
        var claim = claims.get(namespace: namespace, name: name)
        let settled = volume.status.phase == "Released" || volume.status.phase == "Failed"
        if claim == nil && !settled || claim.map({ $0.metadata.uid != reference.uid }) ?? false {
            do {
                claim = try await ResourceClient<PersistentVolumeClaim>(client: context.client, namespace: namespace)
                    .get(name)
            } catch let error as StatusError where error.code == 404 {
                claim = nil
            }
        }
        return claim.flatMap { $0.metadata.uid == reference.uid ? $0 : nil }
    }

    /// Undoes a binding whose claim went to another volume, as upstream's `unbindVolume`: a binding the controller
    /// made is dropped, a user's pre-binding is kept without the claim's UID; either way the volume is Available.
    private func unbind(_ volume: PersistentVolume) async throws {
        var updated = volume
        if volume.metadata.annotations[VolumeMatching.boundByController] != nil {
            updated.spec.claimRef = nil
            updated.metadata.annotations[VolumeMatching.boundByController] = nil
        } else {
            updated.spec.claimRef?.uid = ""
        }
        let written = try await volumeClient.update(updated)
        try await setPhase(written, "Available")
    }

    /// Applies the volume's reclaim policy once its claim is gone (upstream's `reclaimVolume`).
    func reclaim(_ volume: PersistentVolume) async throws {
        switch volume.spec.persistentVolumeReclaimPolicy ?? "Retain" {
        case "Retain":
            return
        case "Recycle":
            // Recycling needs a volume plugin's recycler pod; none runs here.
            try await setPhase(volume, "Failed", message: Self.noRecycler, event: "VolumeFailedRecycle")
        case "Delete":
            try await deleteReleased(volume)
        default:
            try await setPhase(
                volume, "Failed", message: "Volume has unrecognized PersistentVolumeReclaimPolicy",
                event: "VolumeUnknownReclaimPolicy")
        }
    }

    static let noRecycler = "No recycler plugin found for the volume!"

    /// Deletes a released volume's object. Upstream would first delete the storage through the volume's plugin;
    /// with no plugins here the object is all there is, except for a volume an external provisioner made, which
    /// that provisioner deletes together with its storage.
    private func deleteReleased(_ volume: PersistentVolume) async throws {
        if let provisioner = volume.metadata.annotations[VolumeMatching.provisionedBy],
            !VolumeMatching.isInTree(provisioner)
        {
            return
        }
        guard volume.metadata.deletionTimestamp == nil else { return }
        // Read the volume again: a user may have bound it anew since the cache saw it released.
        let current: PersistentVolume
        do {
            current = try await volumeClient.get(volume.metadata.name ?? "")
        } catch let error as StatusError where error.code == 404 {
            return
        }
        guard current.metadata.uid == volume.metadata.uid, current.status.phase == "Released" else { return }
        var options = DeleteOptions()
        options.preconditions = Preconditions(
            resourceVersion: current.metadata.resourceVersion, uid: current.metadata.uid)
        do {
            try await volumeClient.delete(current.metadata.name ?? "", options: options)
        } catch let error as StatusError where error.code == 404 {
            return
        }
    }

    /// Sets a volume's phase and message with a warning event, both only when the phase changes.
    private func setPhase(_ volume: PersistentVolume, _ phase: String, message: String, event reason: String)
        async throws
    {
        guard volume.status.phase != phase else { return }
        let updated = try await setPhase(volume, phase, message: message)
        event(updated, .warning, reason, message, action: "Reclaim")
    }
}

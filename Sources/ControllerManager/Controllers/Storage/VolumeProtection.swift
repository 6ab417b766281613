import APIMachinery
import Client
import Foundation

/// The storage-object-in-use protection rules the two protection controllers and the admission plugin share:
/// a live claim or volume carries its finalizer, and loses it only once it is being deleted and nothing uses it.
enum VolumeProtection {
    static let claimFinalizer = "kubernetes.io/pvc-protection"
    static let volumeFinalizer = "kubernetes.io/pv-protection"

    /// What a protection controller does for one object.
    enum Action: Equatable {
        case none
        case addFinalizer
        case removeFinalizer
    }

    /// Upstream's order: a deletion candidate (deleting, finalizer present) loses the finalizer when unused; a live
    /// object without it gets it (objects created before the admission plugin, or with it off).
    static func action(finalizers: [String], finalizer: String, deleting: Bool, inUse: () -> Bool) -> Action {
        let present = finalizers.contains(finalizer)
        if deleting { return present && !inUse() ? .removeFinalizer : .none }
        return present ? .none : .addFinalizer
    }

    /// A volume is in use while it is Bound (upstream's pv-protection check).
    static func volumeInUse(_ volume: PersistentVolume) -> Bool {
        volume.status.phase == "Bound"
    }

    /// Whether `pod` uses the claim, as upstream's `podUsesPVC`: only scheduled pods count (the kubelet refuses to
    /// start a pod on a claim being deleted); a generic ephemeral volume's claim counts only while its pod is
    /// not shut down and only if the pod owns it.
    static func podUses(_ pod: Pod, claim: PersistentVolumeClaim, now: Date) -> Bool {
        guard pod.metadata.namespace == claim.metadata.namespace, !(pod.spec.nodeName ?? "").isEmpty else {
            return false
        }
        let claimName = claim.metadata.name ?? ""
        return pod.spec.volumes.contains { volume in
            if volume.persistentVolumeClaim?.claimName == claimName { return true }
            guard volume.ephemeral != nil, ephemeralClaimName(pod, volume) == claimName, !isShutDown(pod, now: now)
            else { return false }
            return claim.metadata.controllerRef?.uid == pod.metadata.uid
        }
    }

    /// Every claim name the pod refers to, ephemeral ones included (`<pod>-<volume>`).
    static func claimNames(of pod: Pod) -> [String] {
        pod.spec.volumes.compactMap { volume in
            if let name = volume.persistentVolumeClaim?.claimName { return name }
            return volume.ephemeral != nil ? ephemeralClaimName(pod, volume) : nil
        }
    }

    static func ephemeralClaimName(_ pod: Pod, _ volume: Volume) -> String {
        "\(pod.metadata.name ?? "")-\(volume.name ?? "")"
    }

    /// A pod the kubelet is done with, or that was force-deleted or is stuck past its grace period: a finalizer on
    /// it must not keep its ephemeral claim alive (upstream's `podIsShutDown`).
    static func isShutDown(_ pod: Pod, now: Date) -> Bool {
        guard let deletion = pod.metadata.deletionTimestamp.flatMap(Timestamp.parse),
            let grace = pod.metadata.deletionGracePeriodSeconds
        else { return false }
        return grace == 0 || now.timeIntervalSince1970 > Double(deletion + grace)
    }
}

import APIMachinery
import Client
import Crypto
import Foundation

/// The attach/detach controller's pure rules for CSI volumes: which VolumeAttachments a node's pods need, under
/// which names, and when a pod stops needing its volumes.
enum VolumeAttachments {
    /// The kubelet sets this on nodes whose attachments the controller manages; other nodes attach on their own.
    static let managedAnnotation = "volumes.kubernetes.io/controller-managed-attach-detach"
    /// How long a volume the node still reports in use keeps its attachment after no pod needs it (upstream's
    /// `maxWaitForUnmountDuration`), so a node that died does not pin the volume forever.
    static let maxWaitForUnmount: Duration = .seconds(360)

    /// One attachment a node needs: the volume, its CSI driver and the driver's handle.
    struct Wanted: Equatable {
        var name: String
        var volumeName: String
        var driver: String
        var handle: String
        var node: String

        /// The VolumeAttachment object that asks the driver's external attacher for it.
        var object: VolumeAttachment {
            var attachment = VolumeAttachment()
            attachment.metadata.name = name
            attachment.spec.attacher = driver
            attachment.spec.nodeName = node
            var source = VolumeAttachmentSource()
            source.persistentVolumeName = volumeName
            attachment.spec.source = source
            return attachment
        }
    }

    /// The CSI attacher's object name: `csi-` and the SHA-256 of handle, driver and node, so every controller
    /// instance names one attachment alike.
    static func attachmentName(handle: String, driver: String, node: String) -> String {
        let digest = SHA256.hash(data: Data((handle + driver + node).utf8))
        return "csi-" + digest.map { String(format: "%02x", $0) }.joined()
    }

    /// The name the kubelet reports in `status.volumesInUse` for a CSI volume.
    static func uniqueVolumeName(driver: String, handle: String) -> String {
        "kubernetes.io/csi/\(driver)^\(handle)"
    }

    /// Whether the pod no longer needs its volumes: it finished, or it is being deleted and no container of it
    /// runs (upstream's `IsPodTerminated`).
    static func isTerminated(_ pod: Pod) -> Bool {
        if pod.status.phase == "Succeeded" || pod.status.phase == "Failed" { return true }
        guard pod.metadata.deletionTimestamp != nil else { return false }
        let statuses =
            pod.status.initContainerStatuses + pod.status.containerStatuses
            + pod.status.ephemeralContainerStatuses
        return statuses.allSatisfy { $0.state?.running == nil }
    }

    /// The attachments `pods` (all on `node`) need: each claim a live pod mounts, once bound to a CSI volume whose
    /// driver requires attaching (a driver without a CSIDriver object does, as upstream's CSI attacher assumes).
    static func wanted(
        node: String, pods: [Pod], claim: (String, String) -> PersistentVolumeClaim?,
        volume: (String) -> PersistentVolume?, driver: (String) -> CSIDriver?
    ) -> [String: Wanted] {
        var result: [String: Wanted] = [:]
        for pod in pods where pod.spec.nodeName == node && !isTerminated(pod) {
            let namespace = pod.metadata.namespace ?? ""
            for name in VolumeProtection.claimNames(of: pod) {
                guard let bound = claim(namespace, name), bound.status.phase == "Bound",
                    let volumeName = bound.spec.volumeName, let persistent = volume(volumeName),
                    let csi = persistent.spec.csi, let driverName = csi.driver, let handle = csi.volumeHandle,
                    driver(driverName)?.spec.attachRequired ?? true
                else { continue }
                let attachment = attachmentName(handle: handle, driver: driverName, node: node)
                result[attachment] = Wanted(
                    name: attachment, volumeName: volumeName, driver: driverName, handle: handle, node: node)
            }
        }
        return result
    }
}

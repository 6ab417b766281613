import APIMachinery
import Client
import Foundation
import XCTest

@testable import ControllerManager

/// The volume binder, the protection controllers and attach/detach against the in-process API server. Each test's
/// volumes carry a class named after its namespace, so volumes other tests leave in the shared server never match.
final class StorageControllersTests: XCTestCase {
    /// A bed running the binder and both protection controllers, resyncing every second.
    private func storageBed(_ prefix: String) async throws -> ControllerTestBed {
        let bed = try await ControllerTestBed(prefix: prefix)
        let context = try bed.context(flags: ["--pvclaimbinder-sync-period=1s"])
        await bed.run([
            try PersistentVolumeBinderController(context: context), PVCProtectionController(context: context),
            PVProtectionController(context: context),
        ])
        return bed
    }

    private func volume(_ bed: ControllerTestBed, _ name: String, _ size: String, policy: String = "Retain")
        async throws -> PersistentVolume
    {
        var volume = StorageRulesTests.volume("\(bed.namespace)-\(name)", size, className: bed.namespace)
        volume.spec.persistentVolumeReclaimPolicy = policy
        volume.spec.hostPath = HostPathVolumeSource(path: "/tmp/\(name)")
        volume.status = PersistentVolumeStatus()
        return try await bed.resource(PersistentVolume.self).create(volume)
    }

    private func claim(_ bed: ControllerTestBed, _ name: String, _ size: String, volumeName: String? = nil)
        async throws -> PersistentVolumeClaim
    {
        var claim = StorageRulesTests.claim(name, size: size, className: bed.namespace)
        claim.metadata.namespace = bed.namespace
        claim.metadata.uid = nil
        claim.spec.volumeName = volumeName
        return try await bed.resource(PersistentVolumeClaim.self).create(claim)
    }

    private func volumePhase(_ bed: ControllerTestBed, _ name: String, _ phase: String) async throws
        -> PersistentVolume
    {
        try await bed.eventually("volume \(name) \(phase)") {
            let volume = try await bed.resource(PersistentVolume.self).get(name)
            return volume.status.phase == phase ? volume : nil
        }
    }

    private func claimBound(_ bed: ControllerTestBed, _ name: String) async throws -> PersistentVolumeClaim {
        try await bed.eventually("claim \(name) Bound") {
            let claim = try await bed.resource(PersistentVolumeClaim.self).get(name)
            return claim.status.phase == "Bound" ? claim : nil
        }
    }

    private func gone<T: KubernetesObject>(_ bed: ControllerTestBed, _ type: T.Type, _ name: String) async throws {
        _ = try await bed.eventually("\(T.resource.kind) \(name) gone") { () async throws -> Bool? in
            do {
                _ = try await bed.resource(type).get(name)
                return nil
            } catch let error as StatusError where error.code == 404 {
                return true
            }
        }
    }

    func testClaimBindsToTheSmallestFittingVolumeAndBothShowBound() async throws {
        let bed = try await storageBed("pv-bind")
        do {
            let big = try await volume(bed, "big", "10Gi")
            let fit = try await volume(bed, "fit", "5Gi")
            let small = try await volume(bed, "small", "1Gi")
            for volume in [big, fit, small] { _ = try await volumePhase(bed, volume.metadata.name ?? "", "Available") }
            let created = try await claim(bed, "data", "3Gi")
            XCTAssertEqual(created.metadata.finalizers, [VolumeProtection.claimFinalizer], "the admission plugin")

            let bound = try await claimBound(bed, "data")
            XCTAssertEqual(bound.spec.volumeName, fit.metadata.name)
            XCTAssertEqual(bound.status.capacity["storage"], try Quantity(parsing: "5Gi"))
            XCTAssertEqual(bound.status.accessModes, ["ReadWriteOnce"])
            XCTAssertEqual(bound.metadata.annotations[VolumeMatching.bindCompleted], "yes")
            XCTAssertEqual(bound.metadata.annotations[VolumeMatching.boundByController], "yes")
            let volume = try await volumePhase(bed, fit.metadata.name ?? "", "Bound")
            XCTAssertEqual(volume.spec.claimRef?.uid, created.metadata.uid)
            XCTAssertEqual(volume.spec.claimRef?.name, "data")
            XCTAssertEqual(volume.metadata.annotations[VolumeMatching.boundByController], "yes")
            XCTAssertEqual(volume.metadata.finalizers, [VolumeProtection.volumeFinalizer])
            for other in [big, small] {
                let phase = try await bed.resource(PersistentVolume.self).get(other.metadata.name ?? "").status.phase
                XCTAssertEqual(phase, "Available")
            }

            // A claim that names its volume gets that one, even when a smaller one would fit.
            let named = try await claim(bed, "named", "1Gi", volumeName: big.metadata.name)
            let namedBound = try await claimBound(bed, "named")
            XCTAssertEqual(namedBound.spec.volumeName, big.metadata.name)
            XCTAssertNil(namedBound.metadata.annotations[VolumeMatching.boundByController], "the user bound it")
            let namedVolume = try await volumePhase(bed, big.metadata.name ?? "", "Bound")
            XCTAssertEqual(namedVolume.spec.claimRef?.uid, named.metadata.uid)

            // A named volume too small for the claim is refused with upstream's event.
            _ = try await claim(bed, "toobig", "2Gi", volumeName: small.metadata.name)
            let mismatch = try await bed.eventually("a VolumeMismatch event") {
                try await bed.events(about: "toobig", reason: "VolumeMismatch").first
            }
            XCTAssertEqual(
                mismatch, "Cannot bind to requested volume \"\(small.metadata.name ?? "")\": requested PV is too small")
        } catch {
            await bed.stop()
            throw error
        }
        await bed.stop()
    }

    func testReclaimPoliciesWhenTheClaimGoes() async throws {
        let bed = try await storageBed("pv-reclaim")
        do {
            let claims = bed.resource(PersistentVolumeClaim.self)
            for policy in ["Retain", "Delete", "Recycle"] {
                let volume = try await volume(bed, policy.lowercased(), "1Gi", policy: policy)
                _ = try await claim(bed, policy.lowercased(), "1Gi", volumeName: volume.metadata.name)
                _ = try await claimBound(bed, policy.lowercased())
                try await claims.delete(policy.lowercased())
                try await gone(bed, PersistentVolumeClaim.self, policy.lowercased())
            }
            let retained = try await volumePhase(bed, "\(bed.namespace)-retain", "Released")
            XCTAssertEqual(retained.spec.claimRef?.name, "retain", "a released volume keeps its claimRef")
            try await gone(bed, PersistentVolume.self, "\(bed.namespace)-delete")
            let recycled = try await volumePhase(bed, "\(bed.namespace)-recycle", "Failed")
            XCTAssertEqual(recycled.status.message, "No recycler plugin found for the volume!")
        } catch {
            await bed.stop()
            throw error
        }
        await bed.stop()
    }

    func testClaimInUseStaysUntilItsPodIsGone() async throws {
        let bed = try await storageBed("pvc-protect")
        do {
            let volume = try await volume(bed, "used", "1Gi")
            _ = try await claim(bed, "used", "1Gi", volumeName: volume.metadata.name)
            _ = try await claimBound(bed, "used")
            var pod = StorageRulesTests.pod("user", node: "\(bed.namespace)-node", claim: "used")
            pod.metadata.namespace = bed.namespace
            pod.metadata.uid = nil
            _ = try await bed.pods.create(pod)
            let claims = bed.resource(PersistentVolumeClaim.self)
            try await claims.delete("used")
            // Give the controller every chance to get it wrong.
            try await Task.sleep(for: .seconds(2))
            let kept = try await claims.get("used")
            XCTAssertNotNil(kept.metadata.deletionTimestamp)
            XCTAssertEqual(kept.metadata.finalizers, [VolumeProtection.claimFinalizer])

            var options = DeleteOptions()
            options.gracePeriodSeconds = 0
            try await bed.pods.delete("user", options: options)
            try await gone(bed, PersistentVolumeClaim.self, "used")
            // The volume is released, and a Bound volume being deleted waits the same way.
            _ = try await volumePhase(bed, volume.metadata.name ?? "", "Released")
        } catch {
            await bed.stop()
            throw error
        }
        await bed.stop()
    }

    func testDelayedAndExternallyProvisionedClaimsWait() async throws {
        let bed = try await storageBed("pv-wait")
        do {
            var waiting = StorageClass()
            waiting.metadata.name = "\(bed.namespace)-wffc"
            waiting.provisioner = "example.com/nfs"
            waiting.volumeBindingMode = "WaitForFirstConsumer"
            _ = try await bed.resource(StorageClass.self).create(waiting)
            var claim = StorageRulesTests.claim("later", size: "1Gi", className: waiting.metadata.name)
            claim.metadata.namespace = bed.namespace
            claim.metadata.uid = nil
            _ = try await bed.resource(PersistentVolumeClaim.self).create(claim)
            let wait = try await bed.eventually("a WaitForFirstConsumer event") {
                try await bed.events(about: "later", reason: "WaitForFirstConsumer").first
            }
            XCTAssertEqual(wait, "waiting for first consumer to be created before binding")

            // The scheduler picked a node: the external provisioner is asked for.
            var selected = try await bed.resource(PersistentVolumeClaim.self).get("later")
            selected.metadata.annotations[VolumeMatching.selectedNode] = "\(bed.namespace)-node"
            _ = try await bed.resource(PersistentVolumeClaim.self).update(selected)
            let provisioning = try await bed.eventually("an ExternalProvisioning event") {
                try await bed.events(about: "later", reason: "ExternalProvisioning").first
            }
            XCTAssertEqual(
                provisioning,
                "Waiting for a volume to be created either by the external provisioner 'example.com/nfs' or manually "
                    + "by the system administrator. If volume creation is delayed, please verify that the provisioner "
                    + "is running and correctly registered.")
            let annotated = try await bed.resource(PersistentVolumeClaim.self).get("later")
            for annotation in VolumeMatching.provisionerAnnotations {
                XCTAssertEqual(annotated.metadata.annotations[annotation], "example.com/nfs")
            }
            XCTAssertEqual(annotated.status.phase, "Pending")
            try await bed.resource(StorageClass.self).delete(waiting.metadata.name ?? "")
        } catch {
            await bed.stop()
            throw error
        }
        await bed.stop()
    }

    func testAttachmentsFollowPodsOnManagedNodes() async throws {
        let bed = try await ControllerTestBed(prefix: "attach")
        let context = try bed.context(flags: ["--pvclaimbinder-sync-period=1s"])
        await bed.run([
            try PersistentVolumeBinderController(context: context), try AttachDetachController(context: context),
        ])
        do {
            var node = Node()
            node.metadata.name = "\(bed.namespace)-node"
            node.metadata.annotations[VolumeAttachments.managedAnnotation] = "true"
            _ = try await bed.resource(Node.self).create(node)
            var volume = StorageRulesTests.volume("\(bed.namespace)-csi", "1Gi", className: bed.namespace)
            volume.spec.csi = CSIPersistentVolumeSource(driver: "csi.example.com", volumeHandle: "\(bed.namespace)-h")
            volume.status = PersistentVolumeStatus()
            _ = try await bed.resource(PersistentVolume.self).create(volume)
            _ = try await claim(bed, "data", "1Gi", volumeName: volume.metadata.name)
            _ = try await claimBound(bed, "data")
            var pod = StorageRulesTests.pod("user", node: node.metadata.name, claim: "data")
            pod.metadata.namespace = bed.namespace
            pod.metadata.uid = nil
            _ = try await bed.pods.create(pod)

            let name = VolumeAttachments.attachmentName(
                handle: "\(bed.namespace)-h", driver: "csi.example.com", node: node.metadata.name ?? "")
            let attachments = bed.resource(VolumeAttachment.self)
            let attachment = try await bed.eventually("a VolumeAttachment") { try? await attachments.get(name) }
            XCTAssertEqual(attachment.spec.attacher, "csi.example.com")
            XCTAssertEqual(attachment.spec.source?.persistentVolumeName, volume.metadata.name)
            XCTAssertEqual(attachment.spec.nodeName, node.metadata.name)

            var options = DeleteOptions()
            options.gracePeriodSeconds = 0
            try await bed.pods.delete("user", options: options)
            try await gone(bed, VolumeAttachment.self, name)
            try await bed.resource(Node.self).delete(node.metadata.name ?? "")
        } catch {
            await bed.stop()
            throw error
        }
        await bed.stop()
    }
}

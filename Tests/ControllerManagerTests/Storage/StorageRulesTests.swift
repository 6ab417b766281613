import APIMachinery
import Client
import Foundation
import XCTest

@testable import ControllerManager

/// The binder's matching, the protection decisions and the attach/detach plan as pure functions.
final class StorageRulesTests: XCTestCase {
    static func volume(
        _ name: String, _ size: String, modes: [String] = ["ReadWriteOnce"], className: String = "",
        phase: String = "Available", labels: [String: String] = [:], claimRef: (String, String?)? = nil,
        mode: String? = nil
    ) -> PersistentVolume {
        var volume = PersistentVolume()
        volume.metadata.name = name
        volume.metadata.labels = labels
        volume.spec.capacity = ["storage": (try? Quantity(parsing: size)) ?? Quantity()]
        volume.spec.accessModes = modes
        volume.spec.storageClassName = className
        volume.spec.volumeMode = mode
        volume.status.phase = phase
        if let (claim, uid) = claimRef {
            volume.spec.claimRef = ObjectReference(
                apiVersion: "v1", kind: "PersistentVolumeClaim", name: claim, namespace: "ns", uid: uid)
        }
        return volume
    }

    static func claim(
        _ name: String = "data", size: String = "1Gi", modes: [String] = ["ReadWriteOnce"], className: String? = "",
        selector: [String: String]? = nil, mode: String? = nil
    ) -> PersistentVolumeClaim {
        var claim = PersistentVolumeClaim()
        claim.metadata.name = name
        claim.metadata.namespace = "ns"
        claim.metadata.uid = "uid-\(name)"
        claim.spec.accessModes = modes
        claim.spec.storageClassName = className
        claim.spec.volumeMode = mode
        claim.spec.resources = VolumeResourceRequirements(requests: [
            "storage": (try? Quantity(parsing: size)) ?? Quantity()
        ])
        if let selector {
            var labelSelector = MetaLabelSelector()
            labelSelector.matchLabels = selector
            claim.spec.selector = labelSelector
        }
        return claim
    }

    func testBestMatchFollowsUpstreamsOrder() throws {
        let zoned: PersistentVolume = {
            var volume = Self.volume("zoned", "5Gi")
            var requirement = NodeSelectorRequirement()
            requirement.key = "zone"
            requirement.operator = "In"
            requirement.values = ["a"]
            var term = NodeSelectorTerm()
            term.matchExpressions = [requirement]
            volume.spec.nodeAffinity = VolumeNodeAffinity(required: NodeSelector(nodeSelectorTerms: [term]))
            return volume
        }()
        var nodeB = Node()
        nodeB.metadata.name = "b"
        nodeB.metadata.labels = ["zone": "b"]
        var nodeA = nodeB
        nodeA.metadata.labels = ["zone": "a"]
        let cases: [(String, PersistentVolumeClaim, [PersistentVolume], node: Node?, delay: Bool, expected: String?)] =
            [
                (
                    "the smallest volume that fits", Self.claim(size: "3Gi"),
                    [Self.volume("big", "10Gi"), Self.volume("small", "1Gi"), Self.volume("fit", "5Gi")], nil, false,
                    "fit"
                ),
                ("nothing big enough", Self.claim(size: "20Gi"), [Self.volume("big", "10Gi")], nil, false, nil),
                (
                    "the class must match, \"\" included", Self.claim(className: "gold"),
                    [Self.volume("plain", "1Gi"), Self.volume("gold", "2Gi", className: "gold")], nil, false, "gold"
                ),
                (
                    "a classless claim ignores classed volumes", Self.claim(),
                    [Self.volume("gold", "1Gi", className: "gold")], nil, false, nil
                ),
                (
                    "fewest access modes first, then size", Self.claim(),
                    [
                        Self.volume("both", "1Gi", modes: ["ReadWriteOnce", "ReadOnlyMany"]),
                        Self.volume("exact", "9Gi"),
                    ],
                    nil, false, "exact"
                ),
                (
                    "every requested mode is needed", Self.claim(modes: ["ReadWriteMany"]),
                    [Self.volume("rwo", "1Gi"), Self.volume("rwx", "5Gi", modes: ["ReadWriteMany", "ReadWriteOnce"])],
                    nil, false, "rwx"
                ),
                (
                    "a volume pre-bound to the claim wins whatever its phase and size", Self.claim(),
                    [
                        Self.volume("small", "1Gi"),
                        Self.volume("reserved", "50Gi", phase: "Pending", claimRef: ("data", nil)),
                    ], nil, false, "reserved"
                ),
                (
                    "a volume bound elsewhere is skipped", Self.claim(),
                    [Self.volume("taken", "1Gi", phase: "Bound", claimRef: ("other", "uid-other"))], nil, false, nil
                ),
                (
                    "a pre-binding to another claim UID does not count", Self.claim(),
                    [Self.volume("stale", "1Gi", phase: "Bound", claimRef: ("data", "old-uid"))], nil, false, nil
                ),
                (
                    "volume modes must agree", Self.claim(mode: "Block"),
                    [Self.volume("fs", "1Gi"), Self.volume("block", "2Gi", mode: "Block")], nil, false, "block"
                ),
                (
                    "the selector filters by label", Self.claim(selector: ["tier": "fast"]),
                    [Self.volume("slow", "1Gi"), Self.volume("fast", "2Gi", labels: ["tier": "fast"])], nil, false,
                    "fast"
                ),
                (
                    "only Available volumes", Self.claim(),
                    [Self.volume("released", "1Gi", phase: "Released"), Self.volume("free", "2Gi")], nil, false, "free"
                ),
                (
                    "delayed binding without a node takes pre-bound volumes only", Self.claim(),
                    [Self.volume("free", "1Gi")], nil, true, nil
                ),
                ("delayed binding on a node honours affinity", Self.claim(), [zoned], nodeB, true, nil),
                ("delayed binding on an admitted node binds", Self.claim(), [zoned], nodeA, true, "zoned"),
            ]
        for (name, claim, volumes, node, delay, expected) in cases {
            let match = try VolumeMatching.bestMatch(for: claim, among: volumes, node: node, delayBinding: delay)
            XCTAssertEqual(match?.metadata.name, expected, name)
        }
    }

    func testNamedVolumeMismatchesUseUpstreamsWords() {
        let cases: [(PersistentVolume, PersistentVolumeClaim, String?)] = [
            (Self.volume("v", "1Gi"), Self.claim(), nil),
            (Self.volume("v", "1Gi"), Self.claim(size: "2Gi"), "requested PV is too small"),
            (Self.volume("v", "1Gi"), Self.claim(className: "gold"), "storageClassName does not match"),
            (Self.volume("v", "1Gi"), Self.claim(mode: "Block"), "incompatible volumeMode"),
            (Self.volume("v", "1Gi"), Self.claim(modes: ["ReadWriteMany"]), "incompatible accessMode"),
        ]
        for (volume, claim, expected) in cases {
            XCTAssertEqual(VolumeMatching.mismatch(volume, claim), expected)
        }
        var deleting = Self.volume("v", "1Gi")
        deleting.metadata.deletionTimestamp = Timestamp.now()
        XCTAssertEqual(VolumeMatching.mismatch(deleting, Self.claim()), "the volume is marked for deletion \"v\"")
    }

    func testClassesAndDefaults() {
        var claim = Self.claim(className: "spec")
        claim.metadata.annotations[VolumeMatching.betaStorageClass] = "beta"
        XCTAssertEqual(VolumeMatching.claimClass(claim), "beta")
        XCTAssertEqual(VolumeMatching.claimClass(Self.claim(className: nil)), "")

        func storageClass(_ name: String, created: String, isDefault: Bool, beta: Bool = false) -> StorageClass {
            var storageClass = StorageClass()
            storageClass.metadata.name = name
            storageClass.metadata.creationTimestamp = created
            if isDefault {
                storageClass.metadata.annotations[VolumeMatching.defaultClassAnnotations[beta ? 1 : 0]] = "true"
            }
            return storageClass
        }
        let classes = [
            storageClass("old", created: "2024-01-01T00:00:00Z", isDefault: true),
            storageClass("newest-b", created: "2024-06-01T00:00:00Z", isDefault: true, beta: true),
            storageClass("newest-a", created: "2024-06-01T00:00:00Z", isDefault: true),
            storageClass("newer-plain", created: "2025-01-01T00:00:00Z", isDefault: false),
        ]
        XCTAssertEqual(VolumeMatching.defaultClass(classes)?.metadata.name, "newest-a")
        XCTAssertNil(VolumeMatching.defaultClass([classes[3]]))
        XCTAssertTrue(VolumeMatching.isInTree("kubernetes.io/no-provisioner"))
        XCTAssertFalse(VolumeMatching.isInTree("ebs.csi.aws.com"))
    }

    func testProtectionDecisions() {
        let finalizer = VolumeProtection.claimFinalizer
        let cases: [(String, [String], deleting: Bool, inUse: Bool, VolumeProtection.Action)] = [
            ("a live object gets the finalizer", [], false, false, .addFinalizer),
            ("a live object keeps it", [finalizer], false, true, .none),
            ("an unused deleted object loses it", ["other", finalizer], true, false, .removeFinalizer),
            ("a used deleted object keeps it", [finalizer], true, true, .none),
            ("a deleted object without it is left alone", [], true, false, .none),
        ]
        for (name, finalizers, deleting, inUse, expected) in cases {
            XCTAssertEqual(
                VolumeProtection.action(finalizers: finalizers, finalizer: finalizer, deleting: deleting) { inUse },
                expected, name)
        }
        var bound = Self.volume("v", "1Gi", phase: "Bound")
        XCTAssertTrue(VolumeProtection.volumeInUse(bound))
        bound.status.phase = "Released"
        XCTAssertFalse(VolumeProtection.volumeInUse(bound))
    }

    static func pod(_ name: String, node: String?, claim: String? = nil, ephemeral: String? = nil) -> Pod {
        var pod = Pod(spec: PodSpec(containers: [Container(name: "main", image: "nginx")]))
        pod.metadata.name = name
        pod.metadata.namespace = "ns"
        pod.metadata.uid = "uid-\(name)"
        pod.spec.nodeName = node
        if let claim {
            var volume = Volume()
            volume.name = "data"
            volume.persistentVolumeClaim = PersistentVolumeClaimVolumeSource(claimName: claim)
            pod.spec.volumes.append(volume)
        }
        if let ephemeral {
            var volume = Volume()
            volume.name = ephemeral
            volume.ephemeral = EphemeralVolumeSource()
            pod.spec.volumes.append(volume)
        }
        return pod
    }

    func testWhichPodsUseAClaim() {
        let now = Date()
        let claim = Self.claim("data")
        XCTAssertTrue(VolumeProtection.podUses(Self.pod("web", node: "n1", claim: "data"), claim: claim, now: now))
        XCTAssertFalse(
            VolumeProtection.podUses(Self.pod("web", node: nil, claim: "data"), claim: claim, now: now),
            "an unscheduled pod never started on it")
        XCTAssertFalse(VolumeProtection.podUses(Self.pod("web", node: "n1", claim: "other"), claim: claim, now: now))

        let user = Self.pod("web", node: "n1", ephemeral: "scratch")
        var owned = Self.claim("web-scratch")
        XCTAssertFalse(VolumeProtection.podUses(user, claim: owned, now: now), "not owned by the pod")
        owned.metadata.ownerReferences = [
            OwnerReference(apiVersion: "v1", kind: "Pod", name: "web", uid: "uid-web", controller: true)
        ]
        XCTAssertTrue(VolumeProtection.podUses(user, claim: owned, now: now))
        var finished = user
        finished.metadata.deletionTimestamp = Timestamp.format(epochSeconds: Int64(now.timeIntervalSince1970))
        finished.metadata.deletionGracePeriodSeconds = 0
        XCTAssertFalse(VolumeProtection.podUses(finished, claim: owned, now: now), "a shut-down pod")
        XCTAssertEqual(VolumeProtection.claimNames(of: user), ["web-scratch"])
    }

    func testAttachmentsForScheduledPodsOfAttachableCSIVolumes() {
        XCTAssertEqual(
            VolumeAttachments.attachmentName(handle: "vol-1", driver: "csi.example.com", node: "n1"),
            "csi-7f0cbc9a847afb6d66cd7c8a07cd6430de4c5dec35de8924cff09a5c92d56128")
        var csiVolume = Self.volume("pv-1", "1Gi", phase: "Bound")
        csiVolume.spec.csi = CSIPersistentVolumeSource(driver: "csi.example.com", volumeHandle: "vol-1")
        var nfsVolume = Self.volume("pv-2", "1Gi", phase: "Bound")
        nfsVolume.spec.nfs = NFSVolumeSource(server: "nfs", path: "/")
        var bound = Self.claim("data")
        bound.spec.volumeName = "pv-1"
        bound.status.phase = "Bound"
        var nfsClaim = Self.claim("files")
        nfsClaim.spec.volumeName = "pv-2"
        nfsClaim.status.phase = "Bound"
        var pending = Self.claim("later")
        pending.spec.volumeName = "pv-1"
        let claims = [bound, nfsClaim, pending]
        var noAttach = CSIDriver()
        noAttach.spec.attachRequired = false

        func wanted(_ pods: [Pod], driver: CSIDriver? = nil) -> [String] {
            VolumeAttachments.wanted(
                node: "n1", pods: pods, claim: { _, name in claims.first { $0.metadata.name == name } },
                volume: { name in [csiVolume, nfsVolume].first { $0.metadata.name == name } }, driver: { _ in driver }
            ).values.map(\.volumeName).sorted()
        }
        let user = Self.pod("web", node: "n1", claim: "data")
        XCTAssertEqual(wanted([user]), ["pv-1"], "a driver without a CSIDriver object attaches")
        XCTAssertEqual(wanted([user], driver: noAttach), [], "attachRequired: false")
        XCTAssertEqual(wanted([Self.pod("web", node: "n2", claim: "data")]), [], "another node's pod")
        XCTAssertEqual(wanted([Self.pod("web", node: "n1", claim: "files")]), [], "not a CSI volume")
        XCTAssertEqual(wanted([Self.pod("web", node: "n1", claim: "later")]), [], "a claim not bound yet")
        var done = user
        done.status.phase = "Succeeded"
        XCTAssertEqual(wanted([done]), [], "a finished pod")
        var leaving = user
        leaving.metadata.deletionTimestamp = Timestamp.now()
        XCTAssertEqual(wanted([leaving]), [], "a pod being deleted with nothing running")
        var stopping = leaving
        var running = ContainerStatus()
        running.state = ContainerState(running: ContainerStateRunning())
        stopping.status.containerStatuses = [running]
        XCTAssertEqual(wanted([stopping]), ["pv-1"], "a pod still stopping its containers")
        let object = VolumeAttachments.wanted(
            node: "n1", pods: [user], claim: { _, _ in bound }, volume: { _ in csiVolume }, driver: { _ in nil }
        ).values.first?.object
        XCTAssertEqual(object?.spec.attacher, "csi.example.com")
        XCTAssertEqual(object?.spec.nodeName, "n1")
        XCTAssertEqual(object?.spec.source?.persistentVolumeName, "pv-1")
    }
}

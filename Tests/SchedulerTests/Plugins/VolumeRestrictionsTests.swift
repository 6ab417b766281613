import Client
import XCTest

@testable import Scheduler

final class VolumeRestrictionsTests: XCTestCase {
    private func disk(_ configure: (inout Volume) -> Void) -> Volume {
        var volume = Volume(name: "disk")
        configure(&volume)
        return volume
    }

    func testTheSameDiskMountedTwiceConflictsUnlessBothAreReadOnly() {
        let gce = { (name: String, readOnly: Bool) in
            self.disk { $0.gcePersistentDisk = GCEPersistentDiskVolumeSource(pdName: name, readOnly: readOnly) }
        }
        let ebs = { (id: String, readOnly: Bool) in
            self.disk { $0.awsElasticBlockStore = AWSElasticBlockStoreVolumeSource(volumeID: id, readOnly: readOnly) }
        }
        let rbd = { (monitors: [String], readOnly: Bool) in
            self.disk { $0.rbd = RBDVolumeSource(monitors: monitors, image: "img", pool: "pool", readOnly: readOnly) }
        }
        let iscsi = { (iqn: String, readOnly: Bool) in
            self.disk {
                $0.iscsi = ISCSIVolumeSource(targetPortal: "10.0.0.1:3260", iqn: iqn, lun: 0, readOnly: readOnly)
            }
        }
        let conflict = "unschedulable: node(s) had no available disk"
        let cases: [(existing: Volume, incoming: Volume, verdict: String, why: String)] = [
            (gce("pd", false), gce("pd", false), conflict, "GCE PD read-write twice"),
            (gce("pd", true), gce("pd", true), "success", "GCE PD read-only twice"),
            (gce("pd", true), gce("pd", false), conflict, "GCE PD one writer"),
            (gce("pd", false), gce("other", false), "success", "different GCE PDs"),
            (ebs("vol", true), ebs("vol", true), conflict, "EBS cannot be shared even read-only"),
            (ebs("vol", false), ebs("vol2", false), "success", "different EBS volumes"),
            (rbd(["m1", "m2"], false), rbd(["m2", "m3"], false), conflict, "RBD sharing a monitor"),
            (rbd(["m1"], false), rbd(["m2"], false), "success", "RBD with disjoint monitors"),
            (rbd(["m1"], true), rbd(["m1"], true), "success", "RBD read-only twice"),
            (iscsi("iqn.a", false), iscsi("iqn.a", false), conflict, "iSCSI same IQN"),
            (iscsi("iqn.a", true), iscsi("iqn.a", true), "success", "iSCSI read-only twice"),
            (gce("pd", false), ebs("pd", false), "success", "different kinds never conflict"),
        ]
        for test in cases {
            let existing = Fixtures.pod("e") { $0.spec.volumes = [test.existing] }
            let incoming = Fixtures.pod("p") { $0.spec.volumes = [test.incoming] }
            let node = Fixtures.nodeInfo(Fixtures.node("n"), pods: [existing])
            XCTAssertEqual(
                Harness.filter(VolumeRestrictions(handle: Fixtures.handle()), pod: incoming, nodes: [node]),
                [test.verdict], test.why)
        }
    }

    func testAReadWriteOncePodClaimInUseRejectsEveryNodeUntilItsUserIsRemoved() {
        let handle = Fixtures.handle(claims: [
            Fixtures.claim("solo", accessModes: ["ReadWriteOncePod"]), Fixtures.claim("shared"),
        ])
        let user = PodInfo(Fixtures.pod("user") { $0.spec.volumes = [Fixtures.claimVolume("solo")] })
        let nodes = [
            Fixtures.nodeInfo(Fixtures.node("a")),
            Fixtures.nodeInfo(Fixtures.node("b"), pods: [user.pod]),
        ]
        let plugin = VolumeRestrictions(handle: handle)
        let conflict =
            "unschedulable: node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod "
            + "access mode"
        let wantsSolo = Fixtures.pod("p") { $0.spec.volumes = [Fixtures.claimVolume("solo")] }
        XCTAssertEqual(Harness.filter(plugin, pod: wantsSolo, nodes: nodes), [conflict, conflict])
        let wantsShared = Fixtures.pod("p") { $0.spec.volumes = [Fixtures.claimVolume("shared")] }
        XCTAssertEqual(Harness.filter(plugin, pod: wantsShared, nodes: nodes), ["success", "success"])
        let wantsMissing = Fixtures.pod("p") { $0.spec.volumes = [Fixtures.claimVolume("missing")] }
        XCTAssertEqual(
            Harness.filter(plugin, pod: wantsMissing, nodes: nodes),
            Array(repeating: "unschedulableAndUnresolvable: persistentvolumeclaim \"missing\" not found", count: 2))

        // Preemption's what-if: without the user the claim is free; with it back, taken again.
        let state = CycleState()
        let incoming = PodInfo(wantsSolo)
        _ = plugin.preFilter(state: state, pod: incoming, nodes: nodes)
        plugin.removePod(state: state, pod: incoming, other: user, node: nodes[1])
        XCTAssertEqual(plugin.filter(state: state, pod: incoming, node: nodes[0]).verdict, "success")
        plugin.addPod(state: state, pod: incoming, other: user, node: nodes[1])
        XCTAssertEqual(plugin.filter(state: state, pod: incoming, node: nodes[0]).verdict, conflict)
    }
}

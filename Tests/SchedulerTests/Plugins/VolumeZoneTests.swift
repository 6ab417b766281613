import Client
import XCTest

@testable import Scheduler

final class VolumeZoneTests: XCTestCase {
    func testBoundVolumesKeepPodsInTheirZones() {
        let zone = "topology.kubernetes.io/zone"
        let handle = Fixtures.handle(
            claims: [
                Fixtures.claim("in-a", volumeName: "pv-a"), Fixtures.claim("in-ab", volumeName: "pv-ab"),
                Fixtures.claim("later", storageClass: "wait"), Fixtures.claim("pending", storageClass: "now"),
            ],
            volumes: [
                Fixtures.volume("pv-a", labels: [zone: "us-a"]), Fixtures.volume("pv-ab", labels: [zone: "us-a__us-b"]),
            ],
            classes: [Fixtures.storageClass("wait", waitForFirstConsumer: true), Fixtures.storageClass("now")])
        let nodes = [
            Fixtures.nodeInfo(Fixtures.node("a", labels: [zone: "us-a"])),
            Fixtures.nodeInfo(Fixtures.node("b", labels: [zone: "us-b"])),
            Fixtures.nodeInfo(Fixtures.node("plain")),
        ]
        let conflict = "unschedulableAndUnresolvable: node(s) had no available volume zone"
        let cases: [(claims: [String], verdicts: [String])] = [
            ([], ["success", "success", "success"]),
            (["in-a"], ["success", conflict, "success"]),
            (["in-ab"], ["success", "success", "success"]),
            (["in-a", "in-ab"], ["success", conflict, "success"]),
            (["later"], ["success", "success", "success"]),
            (["pending"], Array(repeating: "unschedulableAndUnresolvable: PersistentVolume had no name", count: 3)),
            (
                ["missing"],
                Array(repeating: "unschedulableAndUnresolvable: persistentvolumeclaim \"missing\" not found", count: 3)
            ),
        ]
        for test in cases {
            let pod = Fixtures.pod("p") { $0.spec.volumes = test.claims.map(Fixtures.claimVolume) }
            XCTAssertEqual(
                Harness.filter(VolumeZone(handle: handle), pod: pod, nodes: nodes), test.verdicts, "\(test.claims)")
        }
    }
}

import Client
import XCTest

@testable import Scheduler

final class NodeVolumeLimitsTests: XCTestCase {
    private let driver = "csi.example.com"

    private func csiNode(limit: Int32?) -> CSINode {
        CSINode(
            spec: CSINodeSpec(drivers: [
                CSINodeDriver(name: driver, nodeID: "n", allocatable: limit.map { VolumeNodeResources(count: $0) })
            ]),
            metadata: ObjectMeta(name: "n"))
    }

    private func using(_ name: String, _ claims: String...) -> Pod {
        Fixtures.pod(name) { $0.spec.volumes = claims.map(Fixtures.claimVolume) }
    }

    func testCSIAttachLimitsCountDistinctVolumesPerDriver() {
        let claims = [
            Fixtures.claim("c1", volumeName: "pv1"), Fixtures.claim("c2", volumeName: "pv2"),
            Fixtures.claim("c3", volumeName: "pv3"), Fixtures.claim("new", storageClass: "fast"),
            Fixtures.claim("other", volumeName: "pv-other"),
        ]
        let volumes = [
            Fixtures.volume("pv1", csiDriver: driver), Fixtures.volume("pv2", csiDriver: driver),
            Fixtures.volume("pv3", csiDriver: driver), Fixtures.volume("pv-other", csiDriver: "other.example.com"),
        ]
        let classes = [Fixtures.storageClass("fast", provisioner: driver)]
        let exceeded = "unschedulable: node(s) exceed max volume count"
        let cases: [(limit: Int32?, existing: [Pod], incoming: Pod, verdict: String, why: String)] = [
            (1, [using("e", "c1")], using("p", "c2"), exceeded, "a second volume over a limit of one"),
            (2, [using("e", "c1")], using("p", "c2"), "success", "room for a second volume"),
            (1, [using("e", "c1")], using("p", "c1"), "success", "a volume already attached counts once"),
            (2, [using("e", "c1")], using("p", "c2", "c3"), exceeded, "two new volumes over a limit of two"),
            (1, [using("e", "c1")], using("p", "new"), exceeded, "an unbound claim counts for its class's driver"),
            (1, [using("e", "c1")], using("p", "other"), "success", "other drivers have their own limit"),
            (nil, [using("e", "c1")], using("p", "c2"), "success", "no limit reported"),
            (
                1, [using("e", "c1")], using("p", "missing"),
                "unschedulableAndUnresolvable: looking up PVC default/missing: "
                    + "persistentvolumeclaim \"missing\" not found",
                "a missing claim of the new pod"
            ),
        ]
        for test in cases {
            let handle = Fixtures.handle(
                claims: claims, volumes: volumes, classes: classes,
                csiNodes: test.limit.map { [csiNode(limit: $0)] } ?? [])
            let node = Fixtures.nodeInfo(Fixtures.node("n"), pods: test.existing)
            XCTAssertEqual(
                Harness.filter(NodeVolumeLimits(handle: handle), pod: test.incoming, nodes: [node]), [test.verdict],
                test.why)
        }
    }

    func testTheNodesAllocatableLimitAppliesWithoutCSINode() {
        let handle = Fixtures.handle(
            claims: [Fixtures.claim("c1", volumeName: "pv1"), Fixtures.claim("c2", volumeName: "pv2")],
            volumes: [Fixtures.volume("pv1", csiDriver: driver), Fixtures.volume("pv2", csiDriver: driver)])
        let node = Fixtures.nodeInfo(
            Fixtures.node("n", extra: ["attachable-volumes-csi-\(driver)": "1"]), pods: [using("e", "c1")])
        XCTAssertEqual(
            Harness.filter(NodeVolumeLimits(handle: handle), pod: using("p", "c2"), nodes: [node]),
            ["unschedulable: node(s) exceed max volume count"])
    }
}

import Client
import XCTest

@testable import Scheduler

final class VolumeBindingTests: XCTestCase {
    func testBoundClaimsMustExistAndTheirVolumesMustAdmitTheNode() {
        let inZoneA = NodeSelectorTerm(matchExpressions: [
            NodeSelectorRequirement(key: "zone", operator: "In", values: ["a"])
        ])
        let handle = Fixtures.handle(
            claims: [
                Fixtures.claim("bound", volumeName: "pv-a"), Fixtures.claim("anywhere", volumeName: "pv-any"),
                Fixtures.claim("dangling", volumeName: "pv-gone"), Fixtures.claim("immediate"),
                Fixtures.claim("later", storageClass: "wait"), Fixtures.claim("classless", storageClass: "nope"),
            ],
            volumes: [Fixtures.volume("pv-a", nodeAffinity: [inZoneA]), Fixtures.volume("pv-any")],
            classes: [Fixtures.storageClass("wait", waitForFirstConsumer: true)])
        let nodes = [
            Fixtures.nodeInfo(Fixtures.node("a", labels: ["zone": "a"])),
            Fixtures.nodeInfo(Fixtures.node("b", labels: ["zone": "b"])),
        ]
        func everywhere(_ verdict: String) -> [String] { [verdict, verdict] }
        let cases: [(claims: [String], verdicts: [String])] = [
            ([], everywhere("success")),
            (["anywhere"], everywhere("success")),
            (["bound"], ["success", "unschedulableAndUnresolvable: node(s) had volume node affinity conflict"]),
            (["missing"], everywhere("unschedulableAndUnresolvable: persistentvolumeclaim \"missing\" not found")),
            (
                ["immediate"],
                everywhere("unschedulableAndUnresolvable: pod has unbound immediate PersistentVolumeClaims")
            ),
            (
                ["dangling"],
                everywhere(
                    "unschedulableAndUnresolvable: node(s) unavailable due to one or more pvc(s) bound to "
                        + "non-existent pv(s)"
                )
            ),
            // No dynamic provisioning yet: as upstream when no volume matches and nothing can provision one.
            (
                ["later"],
                everywhere("unschedulableAndUnresolvable: node(s) didn't find available persistent volumes to bind")
            ),
            (["classless"], everywhere("error: storageclass.storage.k8s.io \"nope\" not found")),
        ]
        for test in cases {
            let pod = Fixtures.pod("p") { $0.spec.volumes = test.claims.map(Fixtures.claimVolume) }
            XCTAssertEqual(
                Harness.filter(VolumeBinding(handle: handle), pod: pod, nodes: nodes), test.verdicts, "\(test.claims)")
        }
    }

    func testAGenericEphemeralVolumeWaitsForItsClaim() {
        let pod = Fixtures.pod("web") { pod in
            var volume = Volume(name: "scratch")
            volume.ephemeral = EphemeralVolumeSource()
            pod.spec.volumes = [volume]
        }
        XCTAssertEqual(
            Harness.filter(
                VolumeBinding(handle: Fixtures.handle()), pod: pod, nodes: [Fixtures.nodeInfo(Fixtures.node("n"))]),
            [
                "unschedulableAndUnresolvable: waiting for ephemeral volume controller to create the "
                    + "persistentvolumeclaim \"web-scratch\""
            ])
    }
}

import Client
import XCTest

@testable import Scheduler

final class NodePortsTests: XCTestCase {
    private func withPort(_ name: String, _ port: Int32, ip: String? = nil, proto: String? = nil) -> Pod {
        Fixtures.pod(name) {
            $0.spec.containers[0].ports = [
                ContainerPort(containerPort: 80, hostIP: ip, hostPort: port, protocol: proto)
            ]
        }
    }

    func testHostPortConflictsAsUpstreamDefinesThem() {
        let taken = "unschedulable: node(s) didn't have free ports for the requested pod ports"
        let cases: [(existing: Pod, incoming: Pod, verdict: String)] = [
            (withPort("e", 8080), withPort("p", 8080), taken),
            (withPort("e", 8080), withPort("p", 8081), "success"),
            (withPort("e", 8080, proto: "UDP"), withPort("p", 8080), "success"),
            (withPort("e", 8080, ip: "10.0.0.1"), withPort("p", 8080, ip: "10.0.0.2"), "success"),
            (withPort("e", 8080, ip: "10.0.0.1"), withPort("p", 8080, ip: "10.0.0.1"), taken),
            (withPort("e", 8080, ip: "10.0.0.1"), withPort("p", 8080), taken),
            (withPort("e", 8080), withPort("p", 8080, ip: "10.0.0.1"), taken),
            (Fixtures.pod("e"), withPort("p", 8080), "success"),
        ]
        for (index, test) in cases.enumerated() {
            let node = Fixtures.nodeInfo(Fixtures.node("n"), pods: [test.existing])
            XCTAssertEqual(
                Harness.filter(NodePorts(), pod: test.incoming, nodes: [node]), [test.verdict], "case \(index)")
        }
    }

    func testPodsWithoutHostPortsSkipThePlugin() {
        let result = NodePorts().preFilter(state: CycleState(), pod: PodInfo(Fixtures.pod("p")), nodes: [])
        XCTAssertEqual(result.status.code, .skip)
        XCTAssertEqual(
            NodePorts().preFilter(state: CycleState(), pod: PodInfo(withPort("p", 1)), nodes: []).status.code,
            .success)
    }
}

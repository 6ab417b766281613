import Client
import XCTest

@testable import Scheduler

final class NodeUnschedulableTests: XCTestCase {
    func testCordonedNodesRejectPodsThatDoNotTolerateIt() {
        let tolerant = Toleration(effect: "NoSchedule", key: "node.kubernetes.io/unschedulable", operator: "Exists")
        let cases: [(unschedulable: Bool?, tolerations: [Toleration], verdict: String)] = [
            (nil, [], "success"),
            (false, [], "success"),
            (true, [], "unschedulableAndUnresolvable: node(s) were unschedulable"),
            (true, [tolerant], "success"),
            (true, [Toleration(operator: "Exists")], "success"),
            (
                true, [Toleration(key: "other", operator: "Exists")],
                "unschedulableAndUnresolvable: node(s) were unschedulable"
            ),
        ]
        for (index, test) in cases.enumerated() {
            let node = Fixtures.nodeInfo(Fixtures.node("n", unschedulable: test.unschedulable))
            let pod = Fixtures.pod("p") { $0.spec.tolerations = test.tolerations }
            XCTAssertEqual(
                Harness.filter(NodeUnschedulable(), pod: pod, nodes: [node]), [test.verdict], "case \(index)")
        }
    }
}

import XCTest

@testable import Scheduler

final class NodeNameTests: XCTestCase {
    func testOnlyTheNamedNodeFits() {
        let nodes = ["a", "b"].map { Fixtures.nodeInfo(Fixtures.node($0)) }
        let cases: [(nodeName: String?, verdicts: [String])] = [
            (nil, ["success", "success"]),
            ("", ["success", "success"]),
            ("b", ["unschedulableAndUnresolvable: node(s) didn't match the requested node name", "success"]),
        ]
        for test in cases {
            let pod = Fixtures.pod("p", nodeName: test.nodeName)
            XCTAssertEqual(
                Harness.filter(NodeName(), pod: pod, nodes: nodes), test.verdicts, "\(test.nodeName ?? "nil")")
        }
    }
}

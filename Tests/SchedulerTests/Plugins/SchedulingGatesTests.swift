import Client
import XCTest

@testable import Scheduler

final class SchedulingGatesTests: XCTestCase {
    func testGatedPodsWaitWithUpstreamsMessage() {
        let cases: [(gates: [String], verdict: String)] = [
            ([], "success"),
            (["example.com/quota"], "unschedulableAndUnresolvable: waiting for scheduling gates: [example.com/quota]"),
            (["a", "b"], "unschedulableAndUnresolvable: waiting for scheduling gates: [a b]"),
        ]
        for test in cases {
            let pod = Fixtures.pod("p") { $0.spec.schedulingGates = test.gates.map { PodSchedulingGate(name: $0) } }
            XCTAssertEqual(SchedulingGates().preEnqueue(PodInfo(pod)).verdict, test.verdict, "\(test.gates)")
        }
    }
}

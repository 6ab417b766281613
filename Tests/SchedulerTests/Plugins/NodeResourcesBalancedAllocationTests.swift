import APIMachinery
import Client
import XCTest

@testable import Scheduler

final class NodeResourcesBalancedAllocationTests: XCTestCase {
    func testScoreIsOneMinusTheDeviationOfTheRequestedFractions() throws {
        let node = Fixtures.nodeInfo(Fixtures.node("n", cpu: "4", memory: "8Gi", extra: ["example.com/gpu": "4"]))
        let plugin = NodeResourcesBalancedAllocation(args: nil)
        let cases: [(pod: Pod, score: Int64, why: String)] = [
            (Fixtures.pod("even", cpu: "1", memory: "2Gi"), 100, "cpu and memory both at 1/4"),
            // Fractions 1/4 and 0: deviation |0.25 - 0| / 2 = 0.125.
            (Fixtures.pod("cpu", cpu: "1"), Int64((1 - 0.125) * 100), "memory not requested counts as 0"),
            (Fixtures.pod("over", cpu: "8", memory: "2Gi"), Int64((1 - (1 - 0.25) / 2) * 100), "capped at 1"),
            (Fixtures.pod("besteffort"), 0, "best-effort pods are not scored"),
        ]
        for test in cases {
            XCTAssertEqual(Harness.scores(plugin, pod: test.pod, nodes: [node]).raw, [test.score], test.why)
        }
        let withGPU = NodeResourcesBalancedAllocation(
            args: try JSON.parse(#"{"resources": [{"name": "cpu"}, {"name": "memory"}, {"name": "example.com/gpu"}]}"#))
        XCTAssertEqual(
            Harness.scores(withGPU, pod: Fixtures.pod("even", cpu: "1", memory: "2Gi"), nodes: [node]).raw, [100],
            "an extended resource the pod does not request is left out, as upstream")
    }
}

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

    /// Upstream's default resources, CPU then memory, are scored from the node's fields directly; listed the
    /// other way round they go the general way. Every strategy here is symmetric in the two, so both must agree.
    func testTheCPUAndMemoryShortcutScoresAsTheGeneralPath() {
        let nodes = [
            Fixtures.nodeInfo(Fixtures.node("empty")),
            Fixtures.nodeInfo(
                Fixtures.node("busy", cpu: "2", memory: "4Gi"),
                pods: [Fixtures.pod("a", cpu: "500m", memory: "1Gi"), Fixtures.pod("b")]),
            Fixtures.nodeInfo(Fixtures.node("full", cpu: "1", memory: "1Gi"), pods: [Fixtures.pod("c", cpu: "2")]),
            Fixtures.nodeInfo(Fixtures.node("nomemory", memory: "0")),
        ]
        let pods = [
            Fixtures.info(Fixtures.pod("p", cpu: "100m", memory: "500Mi")),
            Fixtures.info(Fixtures.pod("cpuonly", cpu: "1")), Fixtures.info(Fixtures.pod("besteffort")),
        ]
        let kinds: [(ResourceAllocationScorer.Kind, Bool)] = [(.least, false), (.most, false), (.balanced, true)]
        for (kind, useRequested) in kinds {
            let shortcut = ResourceAllocationScorer(
                resources: [("cpu", 1), ("memory", 1)], useRequested: useRequested, score: kind)
            let general = ResourceAllocationScorer(
                resources: [("memory", 1), ("cpu", 1)], useRequested: useRequested, score: kind)
            for pod in pods {
                XCTAssertEqual(shortcut.requestsAny(pod), general.requestsAny(pod), pod.name)
                for node in nodes {
                    XCTAssertEqual(
                        shortcut.score(pod: pod, node: node), general.score(pod: pod, node: node),
                        "\(kind) \(pod.name) on \(node.name)")
                }
            }
        }
    }
}

import APIMachinery
import Client
import XCTest

@testable import Scheduler

final class NodeResourcesFitTests: XCTestCase {
    private func fit(_ args: String? = nil) throws -> NodeResourcesFit {
        try NodeResourcesFit(args: args.map { try JSON.parse($0) })
    }

    /// `scoringStrategy` arguments: a type, optional resource weights and a RequestedToCapacityRatio shape.
    private func strategy(
        _ type: String = "LeastAllocated", resources: [(String, Int)] = [], shape: [(Int, Int)] = []
    ) -> String {
        let weights = resources.map { #"{"name": "\#($0.0)", "weight": \#($0.1)}"# }.joined(separator: ", ")
        let points = shape.map { #"{"utilization": \#($0.0), "score": \#($0.1)}"# }.joined(separator: ", ")
        var fields = [#""type": "\#(type)""#]
        if !resources.isEmpty { fields.append(#""resources": [\#(weights)]"#) }
        if !shape.isEmpty { fields.append(#""requestedToCapacityRatio": {"shape": [\#(points)]}"#) }
        return #"{"scoringStrategy": {\#(fields.joined(separator: ", "))}}"#
    }

    private func requesting(_ name: String, _ requests: [String: String]) -> Pod {
        Fixtures.pod(name) { pod in
            var list: [String: Quantity] = [:]
            for (resource, amount) in requests { list[resource] = try? Quantity(parsing: amount) }
            pod.spec.containers[0].resources = ResourceRequirements(requests: list)
        }
    }

    func testFilterReportsEveryInsufficientResourceInUpstreamsOrder() throws {
        let node = Fixtures.node("n", cpu: "4", memory: "8Gi", pods: "2", extra: ["example.com/foo": "1"])
        let busy = [Fixtures.pod("a", cpu: "3", memory: "1Gi")]
        let cases: [(pod: Pod, existing: [Pod], args: String?, verdict: String)] = [
            (Fixtures.pod("p", cpu: "1", memory: "1Gi"), busy, nil, "success"),
            (Fixtures.pod("p", cpu: "2"), busy, nil, "unschedulable: Insufficient cpu"),
            (
                Fixtures.pod("p", cpu: "5", memory: "9Gi"), [], nil,
                "unschedulable: Insufficient cpu, Insufficient memory"
            ),
            (Fixtures.pod("p"), busy + [Fixtures.pod("b")], nil, "unschedulable: Too many pods"),
            (
                Fixtures.pod("p", cpu: "2"), busy + [Fixtures.pod("b")], nil,
                "unschedulable: Too many pods, Insufficient cpu"
            ),
            (requesting("p", ["example.com/foo": "2"]), [], nil, "unschedulable: Insufficient example.com/foo"),
            (requesting("p", ["example.com/bar": "1"]), [], nil, "unschedulable: Insufficient example.com/bar"),
            (requesting("p", ["example.com/bar": "1"]), [], #"{"ignoredResources": ["example.com/bar"]}"#, "success"),
            (requesting("p", ["example.com/bar": "1"]), [], #"{"ignoredResourceGroups": ["example.com"]}"#, "success"),
        ]
        for (index, test) in cases.enumerated() {
            let info = Fixtures.nodeInfo(node, pods: test.existing)
            XCTAssertEqual(
                Harness.filter(try fit(test.args), pod: test.pod, nodes: [info]), [test.verdict], "case \(index)")
        }
    }

    func testScoringStrategiesMatchUpstreamsFormulas() throws {
        let empty = Fixtures.nodeInfo(Fixtures.node("n", cpu: "4", memory: "8Gi"))
        let gi: Int64 = 1024 * 1024 * 1024
        let defaultMemory: Int64 = 200 * 1024 * 1024
        // One CPU requested, memory absent (counted as upstream's 200Mi default).
        let pod = Fixtures.pod("p", cpu: "1")
        let leastCPU: Int64 = (4000 - 1000) * 100 / 4000
        let leastMemory = (8 * gi - defaultMemory) * 100 / (8 * gi)
        let mostCPU: Int64 = 1000 * 100 / 4000
        let mostMemory = defaultMemory * 100 / (8 * gi)
        let cases: [(args: String?, pod: Pod, score: Int64)] = [
            (nil, pod, (leastCPU + leastMemory) / 2),
            (strategy("MostAllocated"), pod, (mostCPU + mostMemory) / 2),
            // Requests past capacity count as full under MostAllocated (not as empty).
            (strategy("MostAllocated"), Fixtures.pod("big", cpu: "6"), (100 + mostMemory) / 2),
            (
                strategy(resources: [("cpu", 3), ("memory", 1)]),
                pod, (leastCPU * 3 + leastMemory) / 4
            ),
            // Shape 0→0, 100→10 (scaled ×10): cpu at 25 %, memory at 2 %; upstream rounds the weighted mean.
            (
                strategy("RequestedToCapacityRatio", shape: [(0, 0), (100, 10)]),
                pod, Int64((Double(25 + 2) / 2).rounded())
            ),
            // Shape flat at 0 below 50 %: memory scores 0 and drops out of the weights; cpu at 75 % scores 50.
            (
                strategy("RequestedToCapacityRatio", shape: [(50, 0), (100, 10)]),
                Fixtures.pod("p3", cpu: "3"), 0 + (100 - 0) * (75 - 50) / (100 - 50)
            ),
        ]
        for (index, test) in cases.enumerated() {
            XCTAssertEqual(
                Harness.scores(try fit(test.args), pod: test.pod, nodes: [empty]).raw, [test.score], "case \(index)")
        }
    }

    func testExtendedResourcesThePodDoesNotRequestAreNotScored() throws {
        let node = Fixtures.nodeInfo(Fixtures.node("n", cpu: "4", memory: "8Gi", extra: ["example.com/gpu": "4"]))
        let args =
            strategy(resources: [("cpu", 1), ("example.com/gpu", 1)])
        let cpuOnly = Harness.scores(try fit(args), pod: Fixtures.pod("p", cpu: "1"), nodes: [node]).raw
        let cpuScore: Int64 = (4000 - 1000) * 100 / 4000
        let gpuScore: Int64 = (4 - 2) * 100 / 4
        XCTAssertEqual(cpuOnly, [cpuScore], "gpu left out, not scored as 100 % free")
        let withGPU = Harness.scores(
            try fit(args), pod: requesting("g", ["cpu": "1", "example.com/gpu": "2"]), nodes: [node]
        ).raw
        XCTAssertEqual(withGPU, [(cpuScore + gpuScore) / 2])
    }

    func testInvalidArgumentsAreRefused() {
        XCTAssertThrowsError(try fit(#"{"scoringStrategy": {"type": "Fancy"}}"#))
        XCTAssertThrowsError(try fit(#"{"scoringStrategy": {"type": "RequestedToCapacityRatio"}}"#))
    }
}

import APIMachinery
import Client
import Synchronization
import XCTest

@testable import Scheduler

final class SchedulingAlgorithmTests: XCTestCase {
    private func profile() throws -> Profile {
        try Profile(schedulerName: "default-scheduler", plugins: PluginSet(), handle: FrameworkHandle())
    }

    private func schedule(_ pod: Pod, on nodes: [NodeInfo]) throws -> SchedulingAlgorithm.Outcome {
        var start = 0
        return SchedulingAlgorithm().schedule(
            pod: PodInfo(pod), profile: try profile(), snapshot: Snapshot(nodes: nodes), state: CycleState(),
            startIndex: &start)
    }

    func testAPodLandsOnTheOnlyNodeWithRoomForIt() throws {
        let full = Fixtures.nodeInfo(Fixtures.node("full", cpu: "1"), pods: [Fixtures.pod("big", cpu: "900m")])
        let roomy = Fixtures.nodeInfo(Fixtures.node("roomy", cpu: "2"))
        guard
            case .scheduled(let node, _, let feasible) = try schedule(
                Fixtures.pod("p", cpu: "500m"), on: [full, roomy])
        else { return XCTFail("expected the pod to be scheduled") }
        XCTAssertEqual(node, "roomy")
        XCTAssertEqual(feasible, 1)
    }

    func testLeastAllocatedPrefersTheEmptierNode() throws {
        let busy = Fixtures.nodeInfo(Fixtures.node("busy"), pods: [Fixtures.pod("a", cpu: "3", memory: "6Gi")])
        let idle = Fixtures.nodeInfo(Fixtures.node("idle"))
        for _ in 0..<10 {
            guard case .scheduled(let node, _, _) = try schedule(Fixtures.pod("p", cpu: "100m"), on: [busy, idle])
            else { return XCTFail("expected the pod to be scheduled") }
            XCTAssertEqual(node, "idle")
        }
    }

    func testTheFailureMessageCountsReasonsAsUpstreamWritesThem() throws {
        let controlPlane = Taint(key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule")
        let nodes = [
            Fixtures.nodeInfo(Fixtures.node("small", cpu: "1")),
            Fixtures.nodeInfo(Fixtures.node("m1", cpu: "8", taints: [controlPlane])),
            Fixtures.nodeInfo(Fixtures.node("m2", cpu: "8", taints: [controlPlane])),
        ]
        guard case .unschedulable(let error) = try schedule(Fixtures.pod("p", cpu: "2"), on: nodes) else {
            return XCTFail("expected no node to fit")
        }
        XCTAssertEqual(
            error.description,
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint "
                + "{node-role.kubernetes.io/control-plane: }.")
        XCTAssertEqual(error.diagnosis.unschedulablePlugins, ["NodeResourcesFit", "TaintToleration"])
    }

    func testAdaptivePercentageOfNodesToScoreMatchesUpstream() {
        let algorithm = SchedulingAlgorithm()
        XCTAssertEqual(algorithm.numFeasibleNodesToFind(total: 50), 50)
        XCTAssertEqual(algorithm.numFeasibleNodesToFind(total: 1000), 420)
        XCTAssertEqual(algorithm.numFeasibleNodesToFind(total: 5000), 500)
        XCTAssertEqual(algorithm.numFeasibleNodesToFind(total: 6000), 300)
        XCTAssertEqual(SchedulingAlgorithm(percentageOfNodesToScore: 100).numFeasibleNodesToFind(total: 5000), 5000)
    }

    func testTheSearchRotatesItsStartingNode() throws {
        let nodes = (0..<300).map { Fixtures.nodeInfo(Fixtures.node("n\($0)")) }
        var start = 0
        let profile = try profile()
        _ = SchedulingAlgorithm(percentageOfNodesToScore: 10).schedule(
            pod: PodInfo(Fixtures.pod("p")), profile: profile, snapshot: Snapshot(nodes: nodes), state: CycleState(),
            startIndex: &start)
        XCTAssertEqual(start, 100, "100 nodes (the minimum) were evaluated, so the next search starts after them")
    }
}

final class ParallelizerTests: XCTestCase {
    func testEveryItemIsComputedOnceAndInPlace() {
        let results = Parallelizer(parallelism: 16).map(5000) { $0 * 2 }
        XCTAssertEqual(results, (0..<5000).map { $0 * 2 })
    }

    func testStoppingEarlyLeavesAPrefixOfTheOrder() {
        let done = Mutex(0)
        let results = Parallelizer(parallelism: 16).map(5000, stop: { done.withLock { $0 } >= 100 }) { index in
            done.withLock { $0 += 1 }
            return index
        }
        XCTAssertGreaterThanOrEqual(results.count, 100)
        XCTAssertLessThan(results.count, 5000, "the search stopped early")
        XCTAssertEqual(results, Array(0..<results.count), "the results are a prefix of the order, without gaps")
    }

    func testASearchThatStopsWithinItsHeadRunsInOrderAndStopsExactly() {
        let done = Mutex(0)
        let results = Parallelizer(parallelism: 16).search(5000, expected: 100, stop: { done.withLock { $0 } >= 100 }) {
            index in
            done.withLock { $0 += 1 }
            return index
        }
        XCTAssertEqual(results, Array(0..<100), "the calling thread alone evaluated just what was needed")
    }

    func testASearchGoingPastItsHeadStillLeavesAPrefix() {
        let done = Mutex(0)
        let results = Parallelizer(parallelism: 16).search(5000, expected: 1000, stop: { done.withLock { $0 } >= 3000 })
        { index in
            done.withLock { $0 += 1 }
            return index
        }
        XCTAssertGreaterThanOrEqual(results.count, 3000)
        XCTAssertLessThan(results.count, 5000, "the search stopped early")
        XCTAssertEqual(results, Array(0..<results.count), "the results are a prefix of the order, without gaps")
        let all = Parallelizer(parallelism: 16).search(5000, expected: 5000, stop: { false }) { $0 }
        XCTAssertEqual(all, Array(0..<5000))
    }

    func testAParallelSearchFindsTheSameNumberOfNodesAsUpstream() throws {
        let nodes = (0..<1000).map { index in
            Fixtures.nodeInfo(Fixtures.node("n\(index)", cpu: index % 2 == 0 ? "4" : "1"))
        }
        let profile = try Profile(schedulerName: "default-scheduler", plugins: PluginSet(), handle: FrameworkHandle())
        var start = 0
        let outcome = SchedulingAlgorithm(parallelism: 16).schedule(
            pod: PodInfo(Fixtures.pod("p", cpu: "2")), profile: profile, snapshot: Snapshot(nodes: nodes),
            state: CycleState(), startIndex: &start)
        guard case .scheduled(let node, let evaluated, let feasible) = outcome else {
            return XCTFail("expected the pod to be scheduled")
        }
        XCTAssertEqual(feasible, 420, "upstream's adaptive count for 1,000 nodes")
        XCTAssertGreaterThanOrEqual(evaluated, 839)
        XCTAssertEqual(start, evaluated % 1000)
        XCTAssertTrue(["0", "2", "4", "6", "8"].contains(node.last.map(String.init) ?? ""), "only 4-CPU nodes fit")
    }
}

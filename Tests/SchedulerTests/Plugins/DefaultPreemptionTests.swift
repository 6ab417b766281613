import APIMachinery
import Client
import Foundation
import XCTest

@testable import Scheduler

final class DefaultPreemptionTests: XCTestCase {
    /// What the fake handle saw: deleted pods and recorded events.
    private final class Recorder: @unchecked Sendable {
        private let lock = NSLock()
        private var _deleted: [String] = []
        private var _events: [String] = []
        var profile: Profile?

        var deleted: [String] { lock.withLock { _deleted } }
        var events: [String] { lock.withLock { _events } }
        func delete(_ pod: Pod) { lock.withLock { _deleted.append(pod.metadata.name ?? "") } }
        func record(_ pod: Pod, _ type: String, _ reason: String, _ note: String) {
            lock.withLock { _events.append("\(pod.metadata.name ?? "") \(type) \(reason): \(note)") }
        }
    }

    private struct DeleteFailed: Error {}

    /// A preemption plugin over a default profile on a closure-based handle; deleting fails when asked.
    private func preemption(
        budgets: [PodDisruptionBudget] = [], failDeletes: Bool = false, args: String? = nil
    ) throws -> (DefaultPreemption, Recorder) {
        let recorder = Recorder()
        let handle = FrameworkHandle(
            recordEvent: { pod, type, reason, _, note in recorder.record(pod, type, reason, note) },
            disruptionBudgets: { budgets }, profile: { _ in recorder.profile })
        recorder.profile = try Profile(schedulerName: "default-scheduler", plugins: PluginSet(), handle: handle)
        let plugin = try DefaultPreemption(
            args: args.map { try JSON.parse($0) }, handle: handle,
            deletePod: { pod in
                if failDeletes { throw DeleteFailed() }
                recorder.delete(pod)
            })
        return (plugin, recorder)
    }

    /// Runs the algorithm (so the diagnosis is real) and then PostFilter.
    private func preempt(
        _ pod: Pod, on nodes: [NodeInfo], with plugin: DefaultPreemption, recorder: Recorder
    ) async throws -> PostFilterResult {
        let profile = try XCTUnwrap(recorder.profile)
        let snapshot = Snapshot(nodes: nodes)
        let state = CycleState()
        var start = 0
        let outcome = SchedulingAlgorithm().schedule(
            pod: PodInfo(pod), profile: profile, snapshot: snapshot, state: state, startIndex: &start)
        guard case .unschedulable(let error) = outcome else {
            XCTFail("expected no node to fit before preemption")
            return PostFilterResult(.error("scheduled"))
        }
        return await plugin.postFilter(state: state, pod: PodInfo(pod), diagnosis: error.diagnosis, snapshot: snapshot)
    }

    private func running(_ name: String, priority: Int32, cpu: String, labels: [String: String] = [:]) -> Pod {
        Fixtures.pod(name, cpu: cpu, priority: priority, labels: labels)
    }

    func testTheLowerPriorityPodIsTheVictimAndDeletedThroughTheHandle() async throws {
        let (plugin, recorder) = try preemption()
        let nodes = [
            Fixtures.nodeInfo(Fixtures.node("n1", cpu: "2"), pods: [running("mid", priority: 5, cpu: "2")]),
            Fixtures.nodeInfo(Fixtures.node("n2", cpu: "2"), pods: [running("low", priority: 1, cpu: "2")]),
        ]
        let result = try await preempt(
            Fixtures.pod("high", cpu: "2", priority: 10), on: nodes, with: plugin, recorder: recorder)
        XCTAssertEqual(result.status.verdict, "success")
        XCTAssertEqual(result.nominatedNodeName, "n2")
        XCTAssertEqual(recorder.deleted, ["low"])
        XCTAssertEqual(recorder.events, ["low Normal Preempted: Preempted by pod uid-default-high on node n2"])
    }

    func testAPodProtectedByADisruptionBudgetIsSparedWhenAnotherChoiceExists() async throws {
        let budget = PodDisruptionBudget(
            metadata: ObjectMeta(name: "keep-a", namespace: "default"),
            spec: PodDisruptionBudgetSpec(selector: MetaLabelSelector(matchLabels: ["app": "a"])),
            status: PodDisruptionBudgetStatus(disruptionsAllowed: 0))
        let protected = Fixtures.nodeInfo(
            Fixtures.node("n1", cpu: "2"), pods: [running("a", priority: 1, cpu: "2", labels: ["app": "a"])])
        // The unprotected victim has the higher priority: only the budget makes n2 the better choice.
        let free = Fixtures.nodeInfo(
            Fixtures.node("n2", cpu: "2"), pods: [running("b", priority: 3, cpu: "2", labels: ["app": "b"])])
        let (plugin, recorder) = try preemption(budgets: [budget])
        let result = try await preempt(
            Fixtures.pod("high", cpu: "2", priority: 10), on: [protected, free], with: plugin, recorder: recorder)
        XCTAssertEqual(result.nominatedNodeName, "n2")
        XCTAssertEqual(recorder.deleted, ["b"])

        // With no other choice the budget is violated: it only orders candidates.
        let (alone, aloneRecorder) = try preemption(budgets: [budget])
        let forced = try await preempt(
            Fixtures.pod("high", cpu: "2", priority: 10), on: [protected], with: alone, recorder: aloneRecorder)
        XCTAssertEqual(forced.nominatedNodeName, "n1")
        XCTAssertEqual(aloneRecorder.deleted, ["a"])
    }

    func testAsManyPodsAsPossibleAreReprievedMostImportantFirst() async throws {
        let node = Fixtures.nodeInfo(
            Fixtures.node("n1", cpu: "4"),
            pods: [
                running("p1", priority: 1, cpu: "1"), running("p2", priority: 2, cpu: "2"),
                running("p3", priority: 3, cpu: "1"),
            ])
        let (plugin, recorder) = try preemption()
        // Without all three the pod fits; p3 comes back (1 + 2 ≤ 4), p2 cannot (1 + 2 + 2 > 4), p1 can (4 ≤ 4).
        let result = try await preempt(
            Fixtures.pod("high", cpu: "2", priority: 10), on: [node], with: plugin, recorder: recorder)
        XCTAssertEqual(result.nominatedNodeName, "n1")
        XCTAssertEqual(recorder.deleted, ["p2"])
    }

    func testNodesArePickedByUpstreamsCriteria() {
        func candidate(_ name: String, violations: Int = 0, _ victims: [(Int32, String?)])
            -> DefaultPreemption.Candidate
        {
            DefaultPreemption.Candidate(
                nodeName: name,
                victims: victims.enumerated().map { index, victim in
                    PodInfo(
                        Fixtures.pod("\(name)-\(index)", priority: victim.0) { $0.status.startTime = victim.1 })
                }, pdbViolations: violations)
        }
        let cases: [(candidates: [DefaultPreemption.Candidate], chosen: String, why: String)] = [
            ([candidate("a", violations: 1, [(1, nil)]), candidate("b", [(5, nil)])], "b", "fewest PDB violations"),
            ([candidate("a", [(5, nil)]), candidate("b", [(3, nil), (3, nil)])], "b", "lowest highest priority"),
            (
                [candidate("a", [(3, nil), (2, nil)]), candidate("b", [(3, nil), (1, nil)])], "b",
                "smallest priority sum"
            ),
            (
                [candidate("a", [(3, nil), (-5, nil)]), candidate("b", [(3, nil)])], "b",
                "sum counts priorities from MinInt32"
            ),
            (
                [candidate("a", [(3, nil), (0, nil), (0, nil)]), candidate("b", [(3, nil), (0, nil)])], "b",
                "fewest victims"
            ),
            (
                [candidate("a", [(3, "2026-01-01T00:00:00Z")]), candidate("b", [(3, "2026-06-01T00:00:00Z")])], "b",
                "latest start of the most important victims"
            ),
            ([candidate("a", [(3, nil)]), candidate("b", [(3, nil)])], "a", "otherwise the first"),
        ]
        for test in cases {
            XCTAssertEqual(DefaultPreemption.select(test.candidates)?.nodeName, test.chosen, test.why)
        }
    }

    func testIneligiblePodsAndHopelessClustersGetUpstreamsMessages() async throws {
        let (plugin, recorder) = try preemption()
        let crowded = [
            Fixtures.nodeInfo(Fixtures.node("n1", cpu: "2"), pods: [running("vip", priority: 100, cpu: "2")]),
            Fixtures.nodeInfo(
                Fixtures.node("n2", cpu: "8", taints: [Taint(key: "x", effect: "NoSchedule")]),
                pods: [running("low", priority: 0, cpu: "1")]),
        ]
        let never = Fixtures.pod("polite", cpu: "2", priority: 10) { $0.spec.preemptionPolicy = "Never" }
        let refused = try await preempt(never, on: crowded, with: plugin, recorder: recorder)
        XCTAssertEqual(refused.status.verdict, "unschedulable: preemption: not eligible due to preemptionPolicy=Never.")

        let hopeless = try await preempt(
            Fixtures.pod("high", cpu: "2", priority: 10), on: crowded, with: plugin, recorder: recorder)
        XCTAssertEqual(
            hopeless.status.verdict,
            "unschedulable: preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, "
                + "1 node(s) had untolerated taint {x: }.")
        XCTAssertEqual(hopeless.nominatedNodeName, "")
        XCTAssertEqual(
            FitError(nodeCount: 2, diagnosis: Diagnosis(), postFilterMessage: hopeless.status.reasons.first)
                .description,
            "0/2 nodes are available: preemption: 0/2 nodes are available: 1 No preemption victims found for incoming "
                + "pod, 1 node(s) had untolerated taint {x: }..")
        XCTAssertEqual(recorder.deleted, [])
    }

    func testATerminatingVictimOnTheNominatedNodeMeansWaiting() async throws {
        let (plugin, recorder) = try preemption()
        let leaving = Fixtures.pod("leaving", cpu: "2", priority: 1) {
            $0.metadata.deletionTimestamp = "2026-01-01T00:00:00Z"
        }
        let nodes = [Fixtures.nodeInfo(Fixtures.node("n1", cpu: "2"), pods: [leaving])]
        let pod = Fixtures.pod("high", cpu: "2", priority: 10) { $0.status.nominatedNodeName = "n1" }
        let result = try await preempt(pod, on: nodes, with: plugin, recorder: recorder)
        XCTAssertEqual(
            result.status.verdict,
            "unschedulable: preemption: not eligible due to a terminating pod on the nominated node.")
    }

    func testAFailedDeletionIsAnError() async throws {
        let (plugin, recorder) = try preemption(failDeletes: true)
        let nodes = [Fixtures.nodeInfo(Fixtures.node("n1", cpu: "2"), pods: [running("low", priority: 1, cpu: "2")])]
        let result = try await preempt(
            Fixtures.pod("high", cpu: "2", priority: 10), on: nodes, with: plugin, recorder: recorder)
        XCTAssertEqual(result.status.code, .error)
        XCTAssertNil(result.nominatedNodeName)
    }

    func testCandidateCountsAndArguments() throws {
        let (plugin, _) = try preemption()
        XCTAssertEqual(plugin.candidateCount(50), 50, "at least 100, but no more than there are")
        XCTAssertEqual(plugin.candidateCount(5000), 500, "10 %")
        let (absolute, _) = try preemption(args: #"{"minCandidateNodesPercentage": 0, "minCandidateNodesAbsolute": 3}"#)
        XCTAssertEqual(absolute.candidateCount(50), 3)
        XCTAssertThrowsError(try preemption(args: #"{"minCandidateNodesPercentage": 101}"#))
        XCTAssertThrowsError(
            try preemption(args: #"{"minCandidateNodesPercentage": 0, "minCandidateNodesAbsolute": 0}"#))
    }
}

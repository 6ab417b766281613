import APIMachinery
import Client
import XCTest

@testable import Scheduler

/// PreFilter counts kept across cycles (`DomainCountMemo`) must equal counting afresh after every change the
/// cache sees: assume, forget, confirm, delete, node relabel, node added and removed.
final class DomainCountMemoTests: XCTestCase {
    private let zone = "topology.kubernetes.io/zone"

    private func web(_ name: String, namespace: String = "default", node: String? = nil) -> PodInfo {
        PodInfo(Fixtures.pod(name, namespace: namespace, nodeName: node, labels: ["app": "web"]))
    }

    /// a and b in z1 (a web pod bound on a), c in z2, d without a zone.
    private func cluster() -> SchedulerCache {
        let cache = SchedulerCache(time: FakeTime())
        cache.addOrUpdate(node: Fixtures.node("a", labels: [zone: "z1"]))
        cache.addOrUpdate(node: Fixtures.node("b", labels: [zone: "z1"]))
        cache.addOrUpdate(node: Fixtures.node("c", labels: [zone: "z2"]))
        cache.addOrUpdate(node: Fixtures.node("d"))
        cache.addOrUpdate(boundPod: web("w0", node: "a"))
        return cache
    }

    /// Each change, and the zone counts of default-namespace web pods after it.
    private func changes() -> [(why: String, change: (SchedulerCache) -> Void, zones: [String: Int64])] {
        [
            ("initial", { _ in }, ["z1": 1, "z2": 0]),
            ("assumed on c", { $0.assume(self.web("w1"), on: "c") }, ["z1": 1, "z2": 1]),
            (
                "assumed in another namespace", { $0.assume(self.web("o1", namespace: "other"), on: "c") },
                ["z1": 1, "z2": 1]
            ),
            ("forgotten", { $0.forget(uid: "uid-default-w1") }, ["z1": 1, "z2": 0]),
            ("bound on b", { $0.addOrUpdate(boundPod: self.web("w2", node: "b")) }, ["z1": 2, "z2": 0]),
            ("deleted from a", { $0.remove(podUID: "uid-default-w0") }, ["z1": 1, "z2": 0]),
            (
                "d labelled z3", { $0.addOrUpdate(node: Fixtures.node("d", labels: [self.zone: "z3"])) },
                ["z1": 1, "z2": 0, "z3": 0]
            ),
            (
                "b relabelled z2", { $0.addOrUpdate(node: Fixtures.node("b", labels: [self.zone: "z2"])) },
                ["z2": 1, "z3": 0, "z1": 0]
            ),
            (
                "e added with a pod",
                {
                    $0.addOrUpdate(node: Fixtures.node("e", labels: [self.zone: "z1"]))
                    $0.addOrUpdate(boundPod: self.web("w3", node: "e"))
                }, ["z1": 1, "z2": 1, "z3": 0]
            ),
            ("a removed", { $0.remove(nodeNamed: "a") }, ["z1": 1, "z2": 1, "z3": 0]),
            ("c removed", { $0.remove(nodeNamed: "c") }, ["z1": 1, "z2": 1, "z3": 0]),
            ("b removed", { $0.remove(nodeNamed: "b") }, ["z1": 1, "z3": 0]),
        ]
    }

    private func spreadCounts(_ plugin: PodTopologySpread, _ pod: Pod, _ nodes: [NodeInfo]) -> [TopologyPair: Int64]? {
        let state = CycleState()
        _ = plugin.preFilter(state: state, pod: PodInfo(pod), nodes: nodes)
        return state.read(PodTopologySpread.FilterState.self)?.counts
    }

    func testKeptSpreadCountsFollowEveryChange() throws {
        let kept = try PodTopologySpread(args: nil)
        let constraint = TopologySpreadConstraint(
            maxSkew: 1, topologyKey: zone, whenUnsatisfiable: "DoNotSchedule",
            labelSelector: MetaLabelSelector(matchLabels: ["app": "web"]))
        let incoming = Fixtures.pod("p", labels: ["app": "web"]) { $0.spec.topologySpreadConstraints = [constraint] }
        let elsewhere = Fixtures.pod("q", namespace: "other", labels: ["app": "web"]) {
            $0.spec.topologySpreadConstraints = [constraint]
        }
        let cache = cluster()
        var snapshot = Snapshot(nodes: [])
        for (why, change, zones) in changes() {
            change(cache)
            cache.updateSnapshot(&snapshot)
            let expected = Dictionary(uniqueKeysWithValues: zones.map { (TopologyPair(key: zone, value: $0), $1) })
            XCTAssertEqual(spreadCounts(kept, incoming, snapshot.nodes), expected, why)
            // Another question asked of the same plugin in between is kept apart, and equals a fresh count.
            XCTAssertEqual(
                spreadCounts(kept, elsewhere, snapshot.nodes),
                spreadCounts(try PodTopologySpread(args: nil), elsewhere, snapshot.nodes), why)
        }
    }

    private func affinityTables(_ plugin: InterPodAffinity, _ pod: Pod, _ nodes: [NodeInfo]) -> [[TopologyPair: Int64]]
    {
        let state = CycleState()
        _ = plugin.preFilter(state: state, pod: PodInfo(pod), nodes: nodes)
        guard let counts = state.read(InterPodAffinity.FilterState.self) else { return [] }
        return [counts.existingAntiAffinityCounts, counts.affinityCounts, counts.antiAffinityCounts]
    }

    func testKeptAffinityCountsFollowEveryChange() throws {
        let kept = try InterPodAffinity(args: nil, handle: Fixtures.handle())
        let term = Fixtures.term(["app": "web"], topologyKey: zone)
        let antiAffinity = Affinity(
            podAntiAffinity: PodAntiAffinity(requiredDuringSchedulingIgnoredDuringExecution: [term]))
        let affinity = Affinity(podAffinity: PodAffinity(requiredDuringSchedulingIgnoredDuringExecution: [term]))
        let incoming = [
            Fixtures.pod("p", labels: ["app": "web"]) { $0.spec.affinity = antiAffinity },
            Fixtures.pod("q", labels: ["app": "web"]) { $0.spec.affinity = affinity },
            Fixtures.pod("r", labels: ["app": "web"]),
        ]
        let cache = cluster()
        // An existing pod whose anti-affinity keeps web pods out of its zone: the third table's other side.
        cache.addOrUpdate(
            boundPod: PodInfo(
                Fixtures.pod("guard", nodeName: "c", labels: ["app": "guard"]) { $0.spec.affinity = antiAffinity }))
        var snapshot = Snapshot(nodes: [])
        var sawCounts = false
        for (why, change, _) in changes() {
            change(cache)
            cache.updateSnapshot(&snapshot)
            for pod in incoming {
                let fresh = affinityTables(
                    try InterPodAffinity(args: nil, handle: Fixtures.handle()), pod, snapshot.nodes)
                XCTAssertEqual(affinityTables(kept, pod, snapshot.nodes), fresh, "\(why): \(pod.metadata.name ?? "")")
                sawCounts = sawCounts || fresh.contains { !$0.isEmpty }
            }
        }
        XCTAssertTrue(sawCounts, "the changes must give the tables something to count")
        // After "c removed" the guard pod is gone with its node; before it, its zone was counted.
        XCTAssertEqual(
            affinityTables(kept, incoming[2], snapshot.nodes).first, nil,
            "no existing anti-affinity left: PreFilter skips")
    }

    func testOnlyChangedNodesAreRecountedAndEvictedQuestionsStartOver() {
        let memo = DomainCountMemo<String>(slots: 1, capacity: 1)
        var nodes = ["a", "b", "c"].map { Fixtures.nodeInfo(Fixtures.node($0, labels: [zone: "z1"])) }
        var asked: [String] = []
        func count(_ key: String) -> [TopologyPair: Int64]? {
            memo.counts(for: key, nodes: nodes) { node in
                asked.append(node.name)
                return [
                    DomainContribution(slot: 0, pair: TopologyPair(key: zone, value: "z1"), count: Int64(node.podCount))
                ]
            }.first
        }
        let z1 = TopologyPair(key: zone, value: "z1")
        XCTAssertEqual(count("web"), [z1: 0])
        XCTAssertEqual(asked, ["a", "b", "c"], "the first question counts every node")
        asked = []
        XCTAssertEqual(count("web"), [z1: 0])
        XCTAssertEqual(asked, [], "nothing changed: nothing recounted")
        nodes[1].add(web("w1"))
        XCTAssertEqual(count("web"), [z1: 1])
        XCTAssertEqual(asked, ["b"], "only the node that changed")
        asked = []
        nodes.swapAt(0, 2)
        XCTAssertEqual(count("web"), [z1: 1])
        XCTAssertEqual(asked, ["c", "a"], "nodes that moved are recounted at their new positions")
        asked = []
        XCTAssertEqual(count("db"), [z1: 1])
        XCTAssertEqual(count("web"), [z1: 1])
        XCTAssertEqual(asked.count, 6, "with room for one question, each evicts the other")
    }
}

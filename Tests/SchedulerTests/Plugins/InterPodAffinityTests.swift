import APIMachinery
import Client
import XCTest

@testable import Scheduler

final class InterPodAffinityTests: XCTestCase {
    private let zone = "topology.kubernetes.io/zone"
    private let hostname = "kubernetes.io/hostname"

    private func plugin(_ args: String? = nil, namespaces: [String: [String: String]] = [:]) throws -> InterPodAffinity
    {
        try InterPodAffinity(args: args.map { try JSON.parse($0) }, handle: Fixtures.handle(namespaces: namespaces))
    }

    private func pod(
        _ name: String, namespace: String = "default", labels: [String: String] = [:],
        affinity: [PodAffinityTerm] = [], antiAffinity: [PodAffinityTerm] = [],
        preferred: [(Int32, PodAffinityTerm)] = [], preferredAnti: [(Int32, PodAffinityTerm)] = []
    ) -> Pod {
        Fixtures.pod(name, namespace: namespace, labels: labels) { pod in
            let weighted = { (terms: [(Int32, PodAffinityTerm)]) in
                terms.map { WeightedPodAffinityTerm(weight: $0.0, podAffinityTerm: $0.1) }
            }
            pod.spec.affinity = Affinity(
                podAffinity: PodAffinity(
                    preferredDuringSchedulingIgnoredDuringExecution: weighted(preferred),
                    requiredDuringSchedulingIgnoredDuringExecution: affinity),
                podAntiAffinity: PodAntiAffinity(
                    preferredDuringSchedulingIgnoredDuringExecution: weighted(preferredAnti),
                    requiredDuringSchedulingIgnoredDuringExecution: antiAffinity))
        }
    }

    /// n1 and n2 in zone z1 (the db pod on n1), n3 in z2, n4 without a zone.
    private func nodes(extra: [String: Pod] = [:]) -> [NodeInfo] {
        let db = Fixtures.pod("db", labels: ["app": "db"])
        let zones = ["n1": "z1", "n2": "z1", "n3": "z2"]
        return ["n1", "n2", "n3", "n4"].map { name in
            let labels = zones[name].map { [zone: $0] } ?? [:]
            var pods = name == "n1" ? [db] : []
            if let pod = extra[name] { pods.append(pod) }
            return Fixtures.nodeInfo(Fixtures.node(name, labels: labels), pods: pods)
        }
    }

    func testRequiredAffinityAndAntiAffinityFilter() throws {
        let affinity = "unschedulableAndUnresolvable: node(s) didn't match pod affinity rules"
        let anti = "unschedulable: node(s) didn't match pod anti-affinity rules"
        let ok = "success"
        let db = ["app": "db"]
        let cases: [(pod: Pod, verdicts: [String], why: String)] = [
            (pod("p"), [ok, ok, ok, ok], "no terms"),
            (
                pod("p", affinity: [Fixtures.term(db, topologyKey: zone)]), [ok, ok, affinity, affinity],
                "same zone as db"
            ),
            (pod("p", affinity: [Fixtures.term(db)]), [ok, affinity, affinity, affinity], "same node as db"),
            (
                pod("p", antiAffinity: [Fixtures.term(db, topologyKey: zone)]), [anti, anti, ok, ok],
                "away from db's zone"
            ),
            (
                pod("p", labels: ["app": "cache"], affinity: [Fixtures.term(["app": "cache"], topologyKey: zone)]),
                [ok, ok, ok, affinity], "the first of a group may go anywhere its topology key exists"
            ),
            (
                pod("p", affinity: [Fixtures.term(["app": "cache"], topologyKey: zone)]),
                [affinity, affinity, affinity, affinity], "no matching pod and not matching itself"
            ),
            (
                pod("p", affinity: [Fixtures.term(db, topologyKey: zone, namespaces: ["other"])]),
                [affinity, affinity, affinity, affinity], "db is not in the listed namespace"
            ),
            (
                pod(
                    "p",
                    affinity: [
                        Fixtures.term(
                            db, topologyKey: zone, namespaceSelector: MetaLabelSelector(matchLabels: ["team": "a"]))
                    ]),
                [ok, ok, affinity, affinity], "db's namespace is selected by its labels"
            ),
            (
                pod("p", affinity: [Fixtures.term(db, topologyKey: zone, namespaceSelector: MetaLabelSelector())]),
                [ok, ok, affinity, affinity], "an empty namespace selector selects every namespace"
            ),
        ]
        let plugin = try plugin(namespaces: ["default": ["team": "a"]])
        for test in cases {
            XCTAssertEqual(Harness.filter(plugin, pod: test.pod, nodes: nodes()), test.verdicts, test.why)
        }
    }

    func testExistingPodsAntiAffinityKeepsTheIncomingPodAway() throws {
        let guardPod = pod("guard", antiAffinity: [Fixtures.term(["app": "web"])])
        let existing = "unschedulable: node(s) didn't satisfy existing pods anti-affinity rules"
        XCTAssertEqual(
            Harness.filter(
                try plugin(), pod: Fixtures.pod("web", labels: ["app": "web"]), nodes: nodes(extra: ["n2": guardPod])),
            ["success", existing, "success", "success"])
        XCTAssertEqual(
            Harness.filter(
                try plugin(), pod: Fixtures.pod("api", labels: ["app": "api"]), nodes: nodes(extra: ["n2": guardPod])),
            ["success", "success", "success", "success"])
    }

    func testPreemptionWhatIfsUpdateTheCounts() throws {
        let plugin = try plugin()
        let incoming = PodInfo(pod("p", antiAffinity: [Fixtures.term(["app": "db"], topologyKey: zone)]))
        let all = nodes()
        let state = CycleState()
        _ = plugin.preFilter(state: state, pod: incoming, nodes: all)
        XCTAssertFalse(plugin.filter(state: state, pod: incoming, node: all[1]).isSuccess)
        let db = all[0].pods[0]
        plugin.removePod(state: state, pod: incoming, other: db, node: all[0])
        XCTAssertTrue(plugin.filter(state: state, pod: incoming, node: all[1]).isSuccess, "db removed from z1")
        plugin.addPod(state: state, pod: incoming, other: db, node: all[0])
        XCTAssertFalse(plugin.filter(state: state, pod: incoming, node: all[1]).isSuccess, "db back")
    }

    func testPreferredTermsScoreDomainsAndNormaliseBetweenLowestAndHighest() throws {
        let scored = nodes().prefix(3).map { $0 }
        let incoming = pod(
            "p", preferred: [(10, Fixtures.term(["app": "db"], topologyKey: zone))],
            preferredAnti: [(5, Fixtures.term(["app": "db"]))])
        let (raw, normalized) = Harness.scores(try plugin(), pod: incoming, nodes: scored)
        // z1 gains 10 for db; db's own node loses 5.
        XCTAssertEqual(raw, [10 - 5, 10, 0])
        XCTAssertEqual(normalized, [100 * (5 - 0) / (10 - 0), 100, 0])
    }

    func testPreScoreSkipsWhenNoPodCanScoreTheIncomingOne() throws {
        let plugin = try plugin()
        let web = PodInfo(Fixtures.pod("web", labels: ["app": "web"]))
        // Existing pods with required anti-affinity alone score nothing: the walk over the nodes is skipped.
        let guarded = nodes(extra: ["n2": pod("guard", antiAffinity: [Fixtures.term(["app": "web"])])])
        let state = CycleState()
        state.write(Snapshot(nodes: guarded).summary)
        XCTAssertEqual(state.read(ClusterSummary.self)?.podsScoringOthers, 0)
        XCTAssertEqual(plugin.preScore(state: state, pod: web, nodes: guarded).code, .skip)
        // Preferred terms of its own that select no pod score nothing either: Score is skipped, as upstream.
        let seeker = PodInfo(pod("seeker", preferred: [(10, Fixtures.term(["app": "cache"], topologyKey: zone))]))
        XCTAssertEqual(plugin.preScore(state: state, pod: seeker, nodes: guarded).code, .skip)
        // A pod whose preferred affinity selects web pods counts: PreScore runs.
        let follower = nodes(extra: ["n3": pod("f", preferred: [(3, Fixtures.term(["app": "web"], topologyKey: zone))])]
        )
        let scoring = CycleState()
        scoring.write(Snapshot(nodes: follower).summary)
        XCTAssertEqual(scoring.read(ClusterSummary.self)?.podsScoringOthers, 1)
        XCTAssertEqual(plugin.preScore(state: scoring, pod: web, nodes: follower).code, .success)
    }

    func testExistingPodsRequiredAffinityScoresAtTheHardWeight() throws {
        let follower = pod("follower", affinity: [Fixtures.term(["app": "web"], topologyKey: zone)])
        let all = nodes(extra: ["n3": follower])
        let web = Fixtures.pod("web", labels: ["app": "web"])
        XCTAssertEqual(Harness.scores(try plugin(), pod: web, nodes: Array(all.prefix(3))).raw, [0, 0, 1])
        XCTAssertEqual(
            Harness.scores(try plugin(#"{"hardPodAffinityWeight": 7}"#), pod: web, nodes: Array(all.prefix(3)))
                .normalized,
            [0, 0, 100])
        XCTAssertEqual(
            Harness.scores(try plugin(#"{"hardPodAffinityWeight": 0}"#), pod: web, nodes: Array(all.prefix(3))).raw,
            [0, 0, 0])
        let shy = pod("shy", preferredAnti: [(4, Fixtures.term(["app": "web"], topologyKey: zone))])
        XCTAssertEqual(
            Harness.scores(try plugin(), pod: web, nodes: Array(nodes(extra: ["n1": shy]).prefix(3))).raw, [-4, -4, 0],
            "an existing pod's preferred anti-affinity against the incoming pod")
        XCTAssertThrowsError(try plugin(#"{"hardPodAffinityWeight": 101}"#))
    }

    func testMatchLabelKeysNarrowTheSelectorToThePodsOwnValues() throws {
        let v1 = Fixtures.pod("v1", labels: ["app": "web", "rev": "1"])
        let all = nodes(extra: ["n3": v1])
        let term = PodAffinityTerm(
            topologyKey: zone, labelSelector: MetaLabelSelector(matchLabels: ["app": "web"]), matchLabelKeys: ["rev"])
        let rev1 = pod("p", labels: ["app": "web", "rev": "1"], antiAffinity: [term])
        let rev2 = pod("p", labels: ["app": "web", "rev": "2"], antiAffinity: [term])
        let anti = "unschedulable: node(s) didn't match pod anti-affinity rules"
        XCTAssertEqual(Harness.filter(try plugin(), pod: rev1, nodes: all), ["success", "success", anti, "success"])
        XCTAssertEqual(
            Harness.filter(try plugin(), pod: rev2, nodes: all), ["success", "success", "success", "success"])
    }
}

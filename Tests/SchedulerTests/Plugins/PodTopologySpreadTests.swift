import APIMachinery
import Client
import Foundation
import XCTest

@testable import Scheduler

final class PodTopologySpreadTests: XCTestCase {
    private let zone = "topology.kubernetes.io/zone"
    private let web = MetaLabelSelector(matchLabels: ["app": "web"])

    private func constraint(
        _ key: String, maxSkew: Int32 = 1, action: String = "DoNotSchedule", minDomains: Int32? = nil,
        affinityPolicy: String? = nil, taintsPolicy: String? = nil, matchLabelKeys: [String] = []
    ) -> TopologySpreadConstraint {
        TopologySpreadConstraint(
            maxSkew: maxSkew, topologyKey: key, whenUnsatisfiable: action, labelSelector: web,
            matchLabelKeys: matchLabelKeys, minDomains: minDomains, nodeAffinityPolicy: affinityPolicy,
            nodeTaintsPolicy: taintsPolicy)
    }

    private func spreading(
        _ constraints: [TopologySpreadConstraint], labels: [String: String] = ["app": "web"],
        configure: @escaping (inout Pod) -> Void = { _ in }
    ) -> Pod {
        Fixtures.pod("p", labels: labels) {
            $0.spec.topologySpreadConstraints = constraints
            configure(&$0)
        }
    }

    /// z1: n1 (two web pods, revision 1) and n2; z2: n3 (`extraOnN3` web pods, maybe tainted); n4 has no zone.
    private func nodes(extraOnN3: Int = 0, taintN3: Bool = false) -> [NodeInfo] {
        let webPod = { (name: String) in Fixtures.pod(name, labels: ["app": "web", "rev": "1"]) }
        let taints = taintN3 ? [Taint(key: "dedicated", effect: "NoSchedule")] : []
        return [
            Fixtures.nodeInfo(Fixtures.node("n1", labels: [zone: "z1"]), pods: [webPod("w1"), webPod("w2")]),
            Fixtures.nodeInfo(
                Fixtures.node("n2", labels: [zone: "z1"]), pods: [Fixtures.pod("api", labels: ["app": "api"])]),
            Fixtures.nodeInfo(
                Fixtures.node("n3", labels: [zone: "z2"], taints: taints),
                pods: (0..<extraOnN3).map { webPod("x\($0)") }),
            Fixtures.nodeInfo(Fixtures.node("n4")),
        ]
    }

    func testDoNotScheduleConstraintsBoundTheSkew() throws {
        let skewed = "unschedulable: node(s) didn't match pod topology spread constraints"
        let missing =
            "unschedulableAndUnresolvable: node(s) didn't match pod topology spread constraints "
            + "(missing required label)"
        let hostname = "kubernetes.io/hostname"
        let cases: [(pod: Pod, nodes: [NodeInfo], verdicts: [String], why: String)] = [
            (Fixtures.pod("p"), nodes(), ["success", "success", "success", "success"], "no constraints"),
            (spreading([constraint(zone)]), nodes(), [skewed, skewed, "success", missing], "z1 has 2, z2 has 0"),
            (
                spreading([constraint(zone, maxSkew: 3)]), nodes(), ["success", "success", "success", missing],
                "skew 3 allowed"
            ),
            (spreading([constraint(hostname)]), nodes(), [skewed, "success", "success", "success"], "per node"),
            (
                spreading([constraint(zone)], labels: ["app": "api"]), nodes(), [skewed, skewed, "success", missing],
                "a pod its selector does not match adds nothing"
            ),
            (spreading([constraint(zone)]), nodes(extraOnN3: 1), [skewed, skewed, "success", missing], "minimum 1"),
            (
                spreading([constraint(zone, minDomains: 3)]), nodes(extraOnN3: 1), [skewed, skewed, skewed, missing],
                "fewer domains than minDomains: the global minimum counts as 0"
            ),
            (
                spreading([constraint(zone)]) { $0.spec.nodeSelector = [self.zone: "z1"] }, nodes(),
                ["success", "success", "success", missing], "Honor: z2 is outside the pod's node selector"
            ),
            (
                spreading([constraint(zone, affinityPolicy: "Ignore")]) { $0.spec.nodeSelector = [self.zone: "z1"] },
                nodes(), [skewed, skewed, "success", missing], "Ignore: z2 counts"
            ),
            (
                spreading([constraint(zone, taintsPolicy: "Honor")]), nodes(taintN3: true),
                ["success", "success", "success", missing], "Honor: tainted z2 does not count"
            ),
            (
                spreading([constraint(zone)]), nodes(taintN3: true), [skewed, skewed, "success", missing],
                "taints are ignored by default"
            ),
            (
                spreading([constraint(zone, matchLabelKeys: ["rev"])], labels: ["app": "web", "rev": "2"]), nodes(),
                ["success", "success", "success", missing], "matchLabelKeys: revision 1 pods are not counted"
            ),
        ]
        for test in cases {
            XCTAssertEqual(
                Harness.filter(try PodTopologySpread(args: nil), pod: test.pod, nodes: test.nodes), test.verdicts,
                test.why)
        }
    }

    func testPreemptionWhatIfsUpdateTheCounts() throws {
        let plugin = try PodTopologySpread(args: nil)
        let pod = PodInfo(spreading([constraint(zone)]))
        let all = nodes()
        let state = CycleState()
        _ = plugin.preFilter(state: state, pod: pod, nodes: all)
        XCTAssertFalse(plugin.filter(state: state, pod: pod, node: all[0]).isSuccess)
        for victim in all[0].pods { plugin.removePod(state: state, pod: pod, other: victim, node: all[0]) }
        XCTAssertTrue(plugin.filter(state: state, pod: pod, node: all[0]).isSuccess, "z1 emptied")
        plugin.addPod(state: state, pod: pod, other: all[0].pods[0], node: all[0])
        XCTAssertFalse(plugin.filter(state: state, pod: pod, node: all[0]).isSuccess, "one back: 1 + 1 - 0 > maxSkew")
    }

    func testScheduleAnywayScoresFewerMatchingPodsHigher() throws {
        let plugin = try PodTopologySpread(args: nil)
        // Two zones among the scored nodes: weight log(2 + 2); n4 lacks the zone and is left out.
        let weight = log(4.0)
        for maxSkew: Int32 in [1, 3] {
            let pod = spreading([constraint(zone, maxSkew: maxSkew, action: "ScheduleAnyway")])
            let (raw, normalized) = Harness.scores(plugin, pod: pod, nodes: nodes())
            let z1 = Int64((2 * weight + Double(maxSkew - 1)).rounded())
            let z2 = Int64((0 * weight + Double(maxSkew - 1)).rounded())
            XCTAssertEqual(raw, [z1, z1, z2, PodTopologySpread.ignoredScore], "maxSkew \(maxSkew)")
            let (high, low) = (z1, z2)
            XCTAssertEqual(
                normalized,
                [100 * (high + low - z1) / high, 100 * (high + low - z1) / high, 100 * (high + low - z2) / high, 0],
                "maxSkew \(maxSkew)")
        }
    }

    func testSystemDefaultsSpreadByTheOwnersSelector() throws {
        let owners = try LabelSelector(parsing: "app=web")
        let plugin = try PodTopologySpread(args: nil, defaultSelector: { _ in owners })
        let pod = Fixtures.pod("p", labels: ["app": "web"])
        let (raw, normalized) = Harness.scores(plugin, pod: pod, nodes: nodes())
        // Hostname (maxSkew 3) over 4 nodes: log(6); zone (maxSkew 5) over z1, z2 and n4's empty value: log(5).
        let hostname = { (count: Double) in count * log(6.0) + 2 }
        let zone = { (count: Double) in count * log(5.0) + 4 }
        let expected = [
            hostname(2) + zone(2), hostname(0) + zone(2), hostname(0) + zone(0), hostname(0),
        ].map { Int64($0.rounded()) }
        XCTAssertEqual(raw, expected)
        let (high, low) = (expected.max() ?? 0, expected.min() ?? 0)
        XCTAssertEqual(normalized, expected.map { 100 * (high + low - $0) / high })
        XCTAssertEqual(
            Harness.scores(try PodTopologySpread(args: nil), pod: pod, nodes: nodes()).normalized, [0, 0, 0, 0],
            "without owners there are no default constraints")
        XCTAssertEqual(
            Harness.filter(plugin, pod: pod, nodes: nodes()), ["success", "success", "success", "success"],
            "System defaults never filter")
    }

    func testArguments() throws {
        let zoneConstraint = #"{"maxSkew": 1, "topologyKey": "\#(zone)", "whenUnsatisfiable": "DoNotSchedule"}"#
        let listed = try PodTopologySpread(
            args: try JSON.parse(
                #"{"defaultingType": "List", "defaultConstraints": [\#(zoneConstraint)]}"#
            ), defaultSelector: { _ in try? LabelSelector(parsing: "app=web") })
        XCTAssertEqual(
            Harness.filter(listed, pod: Fixtures.pod("p", labels: ["app": "web"]), nodes: nodes()).first,
            "unschedulable: node(s) didn't match pod topology spread constraints")
        XCTAssertThrowsError(try PodTopologySpread(args: try JSON.parse(#"{"defaultingType": "Other"}"#)))
        XCTAssertThrowsError(
            try PodTopologySpread(
                args: try JSON.parse(
                    #"{"defaultConstraints": [\#(zoneConstraint)]}"#
                )))
    }
}

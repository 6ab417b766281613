import Client
import XCTest

@testable import Scheduler

final class NodeAffinityTests: XCTestCase {
    private func requiring(_ terms: [NodeSelectorTerm]) -> Pod {
        Fixtures.pod("p") {
            $0.spec.affinity = Affinity(
                nodeAffinity: NodeAffinityModel(
                    requiredDuringSchedulingIgnoredDuringExecution: NodeSelector(nodeSelectorTerms: terms)))
        }
    }

    private func expression(_ key: String, _ op: String, _ values: [String] = []) -> NodeSelectorRequirement {
        NodeSelectorRequirement(key: key, operator: op, values: values)
    }

    func testSelectorAndRequiredTermsFilter() {
        let node = Fixtures.nodeInfo(Fixtures.node("n", labels: ["zone": "a", "cores": "8"]))
        let mismatch = "unschedulableAndUnresolvable: node(s) didn't match Pod's node affinity/selector"
        let cases: [(pod: Pod, verdict: String)] = [
            (Fixtures.pod("p"), "success"),
            (Fixtures.pod("p") { $0.spec.nodeSelector = ["zone": "a"] }, "success"),
            (Fixtures.pod("p") { $0.spec.nodeSelector = ["zone": "b"] }, mismatch),
            (requiring([NodeSelectorTerm(matchExpressions: [expression("zone", "In", ["a", "b"])])]), "success"),
            (requiring([NodeSelectorTerm(matchExpressions: [expression("zone", "NotIn", ["a"])])]), mismatch),
            (requiring([NodeSelectorTerm(matchExpressions: [expression("gpu", "DoesNotExist")])]), "success"),
            (requiring([NodeSelectorTerm(matchExpressions: [expression("cores", "Gt", ["4"])])]), "success"),
            (requiring([NodeSelectorTerm(matchExpressions: [expression("cores", "Lt", ["4"])])]), mismatch),
            (requiring([NodeSelectorTerm()]), mismatch),
            (
                requiring([
                    NodeSelectorTerm(matchExpressions: [expression("zone", "In", ["b"])]),
                    NodeSelectorTerm(matchExpressions: [expression("zone", "Exists")]),
                ]), "success"
            ),
        ]
        for (index, test) in cases.enumerated() {
            XCTAssertEqual(
                Harness.filter(NodeAffinityPlugin(), pod: test.pod, nodes: [node]), [test.verdict], "case \(index)")
        }
    }

    func testPreFilterNarrowsToNodesPinnedByName() {
        func names(_ pod: Pod) -> PreFilterResult {
            NodeAffinityPlugin().preFilter(state: CycleState(), pod: PodInfo(pod), nodes: [])
        }
        let pinA = expression("metadata.name", "In", ["a", "b"])
        let cases: [(pod: Pod, code: PluginStatus.Code, names: Set<String>?)] = [
            (Fixtures.pod("p"), .skip, nil),
            (requiring([NodeSelectorTerm(matchFields: [pinA])]), .success, ["a", "b"]),
            // A term may pin names and also require labels: still only those names can match.
            (
                requiring([NodeSelectorTerm(matchExpressions: [expression("zone", "Exists")], matchFields: [pinA])]),
                .success, ["a", "b"]
            ),
            (
                requiring([NodeSelectorTerm(matchFields: [pinA, expression("metadata.name", "In", ["b", "c"])])]),
                .success, ["b"]
            ),
            (
                requiring([
                    NodeSelectorTerm(matchFields: [pinA]),
                    NodeSelectorTerm(matchExpressions: [expression("zone", "Exists")]),
                ]), .success, nil
            ),
            (
                requiring([NodeSelectorTerm(matchFields: [pinA, expression("metadata.name", "In", ["c"])])]),
                .unschedulableAndUnresolvable, nil
            ),
        ]
        for (index, test) in cases.enumerated() {
            let result = names(test.pod)
            XCTAssertEqual(result.status.code, test.code, "case \(index)")
            XCTAssertEqual(result.nodeNames, test.names, "case \(index)")
        }
        XCTAssertEqual(
            names(requiring([NodeSelectorTerm(matchFields: [pinA, expression("metadata.name", "In", ["c"])])]))
                .status.reasons, ["pod affinity terms conflict"])
    }

    func testPreferredTermsScoreTheirWeightsNormalisedToTheBest() {
        let pod = Fixtures.pod("p") {
            $0.spec.affinity = Affinity(
                nodeAffinity: NodeAffinityModel(preferredDuringSchedulingIgnoredDuringExecution: [
                    PreferredSchedulingTerm(
                        weight: 5,
                        preference: NodeSelectorTerm(matchExpressions: [self.expression("zone", "In", ["a"])])),
                    PreferredSchedulingTerm(
                        weight: 3, preference: NodeSelectorTerm(matchExpressions: [self.expression("ssd", "Exists")])),
                ]))
        }
        let nodes = [
            Fixtures.nodeInfo(Fixtures.node("a", labels: ["zone": "a"])),
            Fixtures.nodeInfo(Fixtures.node("a-ssd", labels: ["zone": "a", "ssd": "true"])),
            Fixtures.nodeInfo(Fixtures.node("b", labels: ["zone": "b"])),
        ]
        let (raw, normalized) = Harness.scores(NodeAffinityPlugin(), pod: pod, nodes: nodes)
        XCTAssertEqual(raw, [5, 8, 0])
        XCTAssertEqual(normalized, [100 * 5 / 8, 100, 0])
    }
}

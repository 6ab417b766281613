import Client
import XCTest

@testable import Scheduler

final class TaintTolerationTests: XCTestCase {
    func testHardTaintsRejectUnlessTolerated() {
        let noSchedule = Taint(key: "dedicated", effect: "NoSchedule", value: "gpu")
        let noExecute = Taint(key: "broken", effect: "NoExecute")
        let prefer = Taint(key: "soft", effect: "PreferNoSchedule")
        let cases: [(taints: [Taint], tolerations: [Toleration], verdict: String)] = [
            ([], [], "success"),
            ([prefer], [], "success"),
            ([noSchedule], [], "unschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}"),
            ([noExecute], [], "unschedulableAndUnresolvable: node(s) had untolerated taint {broken: }"),
            (
                [noSchedule], [Toleration(effect: "NoSchedule", key: "dedicated", operator: "Equal", value: "gpu")],
                "success"
            ),
            ([noSchedule], [Toleration(key: "dedicated", value: "gpu")], "success"),
            (
                [noSchedule], [Toleration(key: "dedicated", value: "cpu")],
                "unschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}"
            ),
            (
                [noSchedule], [Toleration(effect: "NoExecute", key: "dedicated", operator: "Exists")],
                "unschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}"
            ),
            ([noSchedule, noExecute], [Toleration(operator: "Exists")], "success"),
        ]
        for (index, test) in cases.enumerated() {
            let node = Fixtures.nodeInfo(Fixtures.node("n", taints: test.taints))
            let pod = Fixtures.pod("p") { $0.spec.tolerations = test.tolerations }
            XCTAssertEqual(Harness.filter(TaintToleration(), pod: pod, nodes: [node]), [test.verdict], "case \(index)")
        }
    }

    func testFewerUntoleratedPreferNoScheduleTaintsScoreHigher() {
        let soft = (1...2).map { Taint(key: "soft\($0)", effect: "PreferNoSchedule") }
        let nodes = [
            Fixtures.nodeInfo(Fixtures.node("clean")),
            Fixtures.nodeInfo(Fixtures.node("one", taints: [soft[0]])),
            Fixtures.nodeInfo(Fixtures.node("two", taints: soft)),
        ]
        let (raw, normalized) = Harness.scores(TaintToleration(), pod: Fixtures.pod("p"), nodes: nodes)
        XCTAssertEqual(raw, [0, 1, 2])
        // Reversed DefaultNormalizeScore: 100 - 100 * count / max.
        XCTAssertEqual(normalized, [100, 100 - 100 * 1 / 2, 0])
        let tolerating = Fixtures.pod("t") { $0.spec.tolerations = [Toleration(key: "soft1", operator: "Exists")] }
        XCTAssertEqual(Harness.scores(TaintToleration(), pod: tolerating, nodes: nodes).raw, [0, 0, 1])
        XCTAssertEqual(
            Harness.scores(TaintToleration(), pod: Fixtures.pod("p"), nodes: [nodes[0]]).normalized, [100],
            "no taints anywhere: every node gets the maximum")
    }
}

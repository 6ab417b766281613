import APIMachinery
import Client
import XCTest

@testable import ControllerManager

final class PodDeletionRankingTests: XCTestCase {
    private let now: Int64 = 1_700_000_000
    private var ranking: PodDeletionRanking { PodDeletionRanking(now: now) }

    func testEachRuleDecidesInUpstreamsOrder() {
        // (why, pod deleted first, pod kept, their ranks)
        let cases: [(String, Pod, Pod, (Int, Int))] = [
            ("unassigned before assigned", pod("a", node: ""), pod("b", node: "n1"), (0, 0)),
            ("pending before running", pod("a", phase: "Pending"), pod("b", phase: "Running"), (0, 0)),
            ("unknown before running", pod("a", phase: "Unknown"), pod("b", phase: "Running"), (0, 0)),
            ("pending before unknown", pod("a", phase: "Pending"), pod("b", phase: "Unknown"), (0, 0)),
            ("not ready before ready", pod("a", readySince: nil), pod("b", readySince: now - 100), (0, 0)),
            ("lower deletion cost first", pod("a", cost: "-5"), pod("b", cost: "10"), (0, 0)),
            ("malformed cost counts as zero", pod("a", cost: "nope"), pod("b", cost: "1"), (0, 0)),
            ("more siblings on the node first", pod("a"), pod("b"), (3, 1)),
            (
                "ready more recently first (log buckets)", pod("a", readySince: now - 10),
                pod("b", readySince: now - 10_000), (0, 0)
            ),
            ("more restarts first", pod("a", restarts: 5), pod("b", restarts: 1), (0, 0)),
            ("newer first", pod("a", created: now - 60), pod("b", created: now - 86_400), (0, 0)),
            ("no creation time first", pod("a", created: nil), pod("b", created: now - 60), (0, 0)),
            ("same age bucket: lower UID first", pod("a", created: now - 1000), pod("b", created: now - 1001), (0, 0)),
        ]
        for (why, first, kept, ranks) in cases {
            XCTAssertTrue(ranking.deleteFirst(first, rank: ranks.0, before: kept, rank: ranks.1), why)
            XCTAssertFalse(ranking.deleteFirst(kept, rank: ranks.1, before: first, rank: ranks.0), why)
        }
    }

    func testEarlierRulesOutweighLaterOnes() {
        // A cheap pod that is ready still goes after an expensive one that is not.
        XCTAssertTrue(
            ranking.deleteFirst(
                pod("a", readySince: nil, cost: "100"), rank: 0, before: pod("b", cost: "-100"), rank: 0))
        // Deletion cost outweighs doubling up on a node.
        XCTAssertTrue(ranking.deleteFirst(pod("a", cost: "-1"), rank: 0, before: pod("b"), rank: 5))
    }

    func testPodsToDeleteCountsSiblingsPerNode() {
        let pods = [pod("a", node: "n1"), pod("b", node: "n2"), pod("c", node: "n3")]
        // n2 carries two more pods of sibling ReplicaSets.
        let related = pods + [pod("x", node: "n2"), pod("y", node: "n2"), pod("z", node: "n3")]
        XCTAssertEqual(ranking.podsToDelete(pods, related: related, count: 1).map(\.metadata.name), ["b"])
        XCTAssertEqual(ranking.podsToDelete(pods, related: related, count: 2).map(\.metadata.name), ["b", "c"])
        XCTAssertEqual(ranking.podsToDelete(pods, related: related, count: 5).count, 3)
    }

    private func pod(
        _ name: String, node: String = "n1", phase: String = "Running", readySince: Int64? = 1_699_990_000,
        cost: String? = nil, restarts: Int32 = 0, created: Int64? = 1_699_000_000
    ) -> Pod {
        var pod = Pod()
        pod.metadata.name = name
        pod.metadata.uid = "uid-\(name)"
        pod.metadata.creationTimestamp = created.map { Timestamp.format(epochSeconds: $0) }
        if let cost { pod.metadata.annotations[PodDeletionRanking.deletionCostAnnotation] = cost }
        pod.spec.nodeName = node
        pod.status.phase = phase
        if let readySince {
            pod.status.conditions = [
                PodCondition(
                    type: "Ready", status: "True", lastTransitionTime: Timestamp.format(epochSeconds: readySince))
            ]
        }
        pod.status.containerStatuses = [ContainerStatus(name: "web", restartCount: restarts)]
        return pod
    }
}

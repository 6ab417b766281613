import Client
import XCTest

@testable import ControllerManager

/// The namespace deletion conditions: upstream's types, reasons and messages, and when they change.
final class NamespaceConditionsTests: XCTestCase {
    private func conditions(_ status: NamespaceStatus) -> [String] {
        status.conditions.map { "\($0.type ?? "") \($0.status ?? "") \($0.reason ?? ""): \($0.message ?? "")" }
    }

    func testAPassWithNothingWrongSetsEveryConditionFalse() {
        var status = NamespaceStatus(phase: "Terminating")
        XCTAssertTrue(NamespaceConditionUpdater().update(&status, now: "t1"))
        XCTAssertEqual(
            conditions(status),
            [
                "NamespaceDeletionDiscoveryFailure False ResourcesDiscovered: All resources successfully discovered",
                "NamespaceDeletionGroupVersionParsingFailure False ParsedGroupVersions: All legacy kube types successfully parsed",
                "NamespaceDeletionContentFailure False ContentDeleted: All content successfully deleted, may be waiting on finalization",
                "NamespaceContentRemaining False ContentRemoved: All content successfully removed",
                "NamespaceFinalizersRemaining False ContentHasNoFinalizers: All content-preserving finalizers finished",
            ])
        XCTAssertFalse(NamespaceConditionUpdater().update(&status, now: "t2"), "the same pass again changes nothing")
    }

    func testFailuresAndLeftoversNameWhatIsWrong() {
        let cases: [(name: String, apply: (inout NamespaceConditionUpdater) -> Void, expected: [String])] = [
            (
                "groups failing discovery",
                {
                    $0.discoveryFailed(
                        "unable to retrieve the complete list of server APIs: x/v1: boom", failedGroups: 1)
                },
                [
                    "NamespaceDeletionDiscoveryFailure True DiscoveryFailed: Discovery failed for some groups, 1 failing: unable to retrieve the complete list of server APIs: x/v1: boom"
                ]
            ),
            (
                "discovery failing outright",
                { $0.discoveryFailed("connection refused", failedGroups: 0) },
                ["NamespaceDeletionDiscoveryFailure True DiscoveryFailed: connection refused"]
            ),
            (
                "unparsable group versions",
                { $0.groupVersionParsingFailed("unexpected GroupVersion string: a/b/c") },
                [
                    "NamespaceDeletionGroupVersionParsingFailure True GroupVersionParsingFailed: unexpected GroupVersion string: a/b/c"
                ]
            ),
            (
                "content that failed to delete, sorted",
                {
                    $0.contentDeletionFailed("zeta failed")
                    $0.contentDeletionFailed("alpha failed")
                },
                [
                    "NamespaceDeletionContentFailure True ContentDeletionFailed: Failed to delete all resource types, 2 remaining: alpha failed, zeta failed"
                ]
            ),
            (
                "content and finalizers remaining",
                {
                    $0.contentRemaining(
                        NamespaceContentTotals(
                            remainingByResource: ["secrets.": 1, "configmaps.": 2, "deployments.apps": 1],
                            remainingByFinalizer: ["example.com/hold": 3]))
                },
                [
                    "NamespaceContentRemaining True SomeResourcesRemain: Some resources are remaining: configmaps. has 2 resource instances, deployments.apps has 1 resource instances, secrets. has 1 resource instances",
                    "NamespaceFinalizersRemaining True SomeFinalizersRemain: Some content in the namespace has finalizers remaining: example.com/hold in 3 resource instances",
                ]
            ),
        ]
        for (name, apply, expected) in cases {
            var updater = NamespaceConditionUpdater()
            apply(&updater)
            var status = NamespaceStatus()
            XCTAssertTrue(updater.update(&status, now: "t1"), name)
            XCTAssertEqual(conditions(status).filter { $0.contains(" True ") }, expected, name)
            XCTAssertEqual(status.conditions.count, 5, name)
        }
    }

    func testTheTransitionTimeMovesOnlyWhenTheStatusFlips() {
        var remaining = NamespaceConditionUpdater()
        remaining.contentRemaining(NamespaceContentTotals(remainingByResource: ["pods.": 2]))
        var status = NamespaceStatus()
        _ = remaining.update(&status, now: "t1")

        var fewer = NamespaceConditionUpdater()
        fewer.contentRemaining(NamespaceContentTotals(remainingByResource: ["pods.": 1]))
        XCTAssertTrue(fewer.update(&status, now: "t2"))
        let content = status.conditions.first { $0.type == "NamespaceContentRemaining" }
        XCTAssertEqual(content?.message, "Some resources are remaining: pods. has 1 resource instances")
        XCTAssertEqual(content?.lastTransitionTime, "t1", "still True: the message changes, the time does not")

        XCTAssertTrue(NamespaceConditionUpdater().update(&status, now: "t3"))
        let cleared = status.conditions.first { $0.type == "NamespaceContentRemaining" }
        XCTAssertEqual(cleared?.status, "False")
        XCTAssertEqual(cleared?.lastTransitionTime, "t3")
        XCTAssertEqual(
            status.conditions.first { $0.type == "NamespaceFinalizersRemaining" }?.lastTransitionTime, "t1",
            "a condition False all along keeps its first time")
    }
}

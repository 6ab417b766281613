import Client
import Component
@testable import ControllerManager
import XCTest

final class ControllerSelectionTests: XCTestCase {
    private let known = [
        ControllerDescriptor(name: "a-controller", aliases: ["a"], serviceAccount: "a") { _ in nil },
        ControllerDescriptor(name: "b-controller", aliases: ["b"], serviceAccount: "b") { _ in nil },
        ControllerDescriptor(name: "off-controller", aliases: ["off"], enabledByDefault: false, serviceAccount: "o") {
            _ in nil
        },
    ]

    func testStarTurnsOnTheDefaultSetAndNamesAddOrRemove() throws {
        let cases: [([String], Set<String>)] = [
            (["*"], ["a-controller", "b-controller"]),
            (["*", "off"], ["a-controller", "b-controller", "off-controller"]),
            (["*", "-b-controller"], ["a-controller"]),
            (["a"], ["a-controller"]),
            (["-a", "a"], []),
            ([], []),
        ]
        for (items, expected) in cases {
            XCTAssertEqual(try ControllerSelection(items, known: known).enabled, expected, "\(items)")
        }
    }

    func testAnUnknownNameIsRefusedWithUpstreamsWording() {
        XCTAssertThrowsError(try ControllerSelection(["*", "-nope"], known: known)) { error in
            XCTAssertEqual(
                (error as? FlagError)?.message,
                "\"nope\" is not in the list of known controllers (--controllers=*,-nope)")
        }
    }
}

final class ControllerExpectationsTests: XCTestCase {
    func testAnOwnerSyncsOnlyOnceEveryCreationAndDeletionIsSeenOrTheWaitTimesOut() {
        let time = FakeTime()
        let expectations = ControllerExpectations(time: time, timeout: .seconds(300))
        let owner = ObjectKey(namespace: "ns", name: "web")
        XCTAssertTrue(expectations.satisfied(owner), "no record: sync")
        expectations.expect(owner, adds: 2, deleting: ["u1"])
        XCTAssertFalse(expectations.satisfied(owner))
        expectations.creationObserved(owner)
        expectations.creationObserved(owner)
        XCTAssertFalse(expectations.satisfied(owner), "a deletion is still awaited")
        expectations.deletionObserved(owner, uid: "other")
        expectations.deletionObserved(owner, uid: "u1")
        expectations.deletionObserved(owner, uid: "u1")
        XCTAssertTrue(expectations.satisfied(owner))
        XCTAssertEqual(expectations.pending(owner).deletes, 0, "a deletion seen twice counts once")

        expectations.expect(owner, adds: 1)
        time.advance(by: .seconds(299))
        XCTAssertFalse(expectations.satisfied(owner))
        time.advance(by: .seconds(2))
        XCTAssertTrue(expectations.satisfied(owner), "a lost watch event does not block the owner forever")
    }
}

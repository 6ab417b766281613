import XCTest

@testable import Client

/// The reflector's pure decisions.
final class ReflectorStateMachineTests: XCTestCase {
    func testResourceVersionsFollowListsEventsAndExpiry() {
        var machine = ReflectorStateMachine()
        let start = ContinuousClock.now
        XCTAssertEqual(machine.start(), .list(resourceVersion: "0"))
        XCTAssertEqual(machine.listed(resourceVersion: "10"), .watch(resourceVersion: "10"))
        machine.watchStarted(now: start)
        machine.observed(resourceVersion: "11")
        machine.observed(resourceVersion: "")
        XCTAssertEqual(machine.lastSyncResourceVersion, "11", "an event without a resourceVersion moves nothing")
        XCTAssertEqual(
            machine.watchEnded(.closed, now: start + .seconds(300), jitter: 0), .watch(resourceVersion: "11"))
        machine.watchStarted(now: start + .seconds(300))
        XCTAssertEqual(
            machine.watchEnded(.failed(.expired), now: start + .seconds(301), jitter: 0),
            .list(resourceVersion: "11"))
        XCTAssertEqual(machine.listFailed(.expired, now: start, jitter: 0), .list(resourceVersion: ""))
        XCTAssertEqual(
            machine.listFailed(.expired, now: start, jitter: 0), .backOff(.milliseconds(800)),
            "a second 410 in a row is not retried at once")
        XCTAssertEqual(machine.backoffElapsed(), .list(resourceVersion: ""))
        XCTAssertEqual(machine.listed(resourceVersion: "30"), .watch(resourceVersion: "30"))
        XCTAssertEqual(machine.relistResourceVersion, "30")
        XCTAssertEqual(machine.stop(), .stop)
        XCTAssertEqual(machine.backoffElapsed(), .stop)
    }

    func testWatchErrorsBackOffThenResumeWithoutRelisting() {
        var machine = ReflectorStateMachine()
        let start = ContinuousClock.now
        _ = machine.start()
        _ = machine.listed(resourceVersion: "10")
        XCTAssertEqual(machine.watchFailedToStart(.other, now: start, jitter: 0), .backOff(.milliseconds(800)))
        XCTAssertEqual(machine.backoffElapsed(), .watch(resourceVersion: "10"))
        machine.watchStarted(now: start)
        machine.observed(resourceVersion: "12")
        XCTAssertEqual(
            machine.watchEnded(.failed(.other), now: start + .seconds(5), jitter: 0), .backOff(.milliseconds(1600)))
        XCTAssertEqual(machine.backoffElapsed(), .watch(resourceVersion: "12"))
        machine.watchStarted(now: start + .seconds(10))
        XCTAssertEqual(
            machine.watchEnded(.closed, now: start + .milliseconds(10_500), jitter: 0), .backOff(.milliseconds(3200)),
            "a watch that closed within a second without an event backs off")
    }

    func testBackoffDoublesToThirtySecondsWithJitterAndResetsAfterTwoQuietMinutes() {
        var backoff = ReflectorBackoff()
        let start = ContinuousClock.now
        let waits = (0..<8).map { backoff.next(now: start + .seconds($0), jitter: 0) }
        XCTAssertEqual(
            waits,
            [800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000].map { Duration.milliseconds($0) })
        XCTAssertEqual(backoff.next(now: start + .seconds(9), jitter: 1), .seconds(60), "jitter adds up to 100 %")
        XCTAssertEqual(backoff.next(now: start + .seconds(200), jitter: 0.25), .milliseconds(1000))
    }
}

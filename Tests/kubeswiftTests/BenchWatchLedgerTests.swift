import XCTest

@testable import kubeswift

/// The watch bench's bookkeeping: latency from the acknowledgement, events that beat it, and what counts as
/// missed, duplicate or unexpected.
final class BenchWatchLedgerTests: XCTestCase {
    private let start = ContinuousClock.now

    private func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    func testDeliveryAfterTheAcknowledgementIsTimedFromIt() {
        var ledger = BenchWatchLedger(creates: 1, watchers: 2)
        ledger.sent(0, at: at(0))
        ledger.acknowledged(0, at: at(4))
        ledger.received(0, watcher: 0, at: at(7))
        ledger.received(0, watcher: 1, at: at(10))
        XCTAssertEqual(ledger.samples, [3, 6])
        XCTAssertEqual(ledger.sentSamples, [7, 10])
        XCTAssertEqual(ledger.missed, 0)
        XCTAssertEqual(ledger.beforeAcknowledgement, 0)
        XCTAssertEqual(ledger.lastArrival, at(10))
    }

    func testEventBeforeItsAcknowledgementWaitsAndCountsAsZero() {
        var ledger = BenchWatchLedger(creates: 1, watchers: 1)
        ledger.sent(0, at: at(0))
        ledger.received(0, watcher: 0, at: at(3))
        XCTAssertEqual(ledger.delivered, 0, "not counted until the create is acknowledged")
        XCTAssertEqual(ledger.expected, 0)
        ledger.acknowledged(0, at: at(5))
        XCTAssertEqual(ledger.samples, [0])
        XCTAssertEqual(ledger.sentSamples, [3])
        XCTAssertEqual(ledger.beforeAcknowledgement, 1)
        XCTAssertEqual(ledger.missed, 0)
    }

    func testMissedIsWhatAcknowledgedCreatesStillOweEveryWatcher() {
        var ledger = BenchWatchLedger(creates: 3, watchers: 2)
        for create in 0..<3 {
            ledger.sent(create, at: at(create))
            ledger.acknowledged(create, at: at(create + 1))
        }
        ledger.received(0, watcher: 0, at: at(5))
        ledger.received(0, watcher: 1, at: at(5))
        ledger.received(2, watcher: 1, at: at(6))
        XCTAssertEqual(ledger.expected, 6)
        XCTAssertEqual(ledger.delivered, 3)
        XCTAssertEqual(ledger.missed, 3)
    }

    func testSecondDeliveryToOneWatcherIsADuplicateNotASample() {
        var ledger = BenchWatchLedger(creates: 1, watchers: 1)
        ledger.sent(0, at: at(0))
        ledger.acknowledged(0, at: at(1))
        ledger.received(0, watcher: 0, at: at(2))
        ledger.received(0, watcher: 0, at: at(3))
        XCTAssertEqual(ledger.duplicates, 1)
        XCTAssertEqual(ledger.samples.count, 1)
    }

    func testEventsOfFailedOrUnsentCreatesAreUnexpected() {
        var ledger = BenchWatchLedger(creates: 3, watchers: 1)
        ledger.sent(0, at: at(0))
        ledger.received(0, watcher: 0, at: at(1))
        ledger.failed(0)
        ledger.received(1, watcher: 0, at: at(2))
        ledger.received(7, watcher: 0, at: at(2))
        ledger.sent(2, at: at(0))
        ledger.acknowledged(2, at: at(1))
        ledger.received(2, watcher: 3, at: at(2))
        XCTAssertEqual(ledger.unexpected, 4)
        XCTAssertEqual(ledger.expected, 1)
        XCTAssertEqual(ledger.missed, 1)
    }

    func testWatchEndsCountOnlyUntilTheBenchStopsWatching() {
        var ledger = BenchWatchLedger(creates: 1, watchers: 2)
        ledger.watchEnded(reason: "connection closed")
        ledger.stopWatching()
        ledger.watchEnded(reason: "cancelled")
        XCTAssertEqual(ledger.endedWatches, 1)
        XCTAssertEqual(ledger.firstWatchEnd, "connection closed")
    }
}

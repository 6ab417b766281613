import NIOConcurrencyHelpers
import XCTest

@testable import APIServer

/// One watcher's queue: batches, its bound, and that either side ending the watch runs its termination once.
final class WatchQueueTests: XCTestCase {
    func testTheConsumerGetsEverythingWaitingInOneBatchAndThenTheEnd() async {
        let queue = WatchQueue(capacity: 3)
        for revision in 1...3 { XCTAssertEqual(queue.push(.bookmark(revision: Int64(revision))), .queued) }
        XCTAssertEqual(queue.push(.bookmark(revision: 4)), .full)
        let batch = await queue.next()
        XCTAssertEqual(batch?.count, 3)
        queue.finish()
        XCTAssertEqual(queue.push(.bookmark(revision: 5)), .finished)
        let end = await queue.next()
        XCTAssertNil(end)
    }

    func testAWaitingConsumerIsHandedTheNextOutput() async throws {
        let queue = WatchQueue(capacity: 1)
        let waiting = Task { await queue.next() }
        try await Task.sleep(for: .milliseconds(50))
        XCTAssertEqual(queue.push(.bookmark(revision: 7)), .queued)
        let batch = await waiting.value
        guard case .bookmark(7) = batch?.first else { return XCTFail("expected the bookmark, got \(batch ?? [])") }
    }

    func testCancellingTheConsumerEndsTheWatchOnce() async throws {
        let queue = WatchQueue(capacity: 1)
        let ended = NIOLockedValueBox(0)
        queue.onTermination { ended.withLockedValue { $0 += 1 } }
        let waiting = Task { await queue.next() }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        let batch = await waiting.value
        XCTAssertNil(batch)
        queue.finish()
        XCTAssertEqual(ended.withLockedValue { $0 }, 1)
        XCTAssertEqual(queue.push(.bookmark(revision: 1)), .finished)
    }

    func testDroppingTheReaderEndsTheWatch() {
        let queue = WatchQueue(capacity: 1)
        let ended = NIOLockedValueBox(false)
        queue.onTermination { ended.withLockedValue { $0 = true } }
        var reader: WatchQueue.Reader? = WatchQueue.Reader(queue)
        XCTAssertNotNil(reader)
        reader = nil
        XCTAssertTrue(ended.withLockedValue { $0 })
        let terminatedLate = NIOLockedValueBox(false)
        queue.onTermination { terminatedLate.withLockedValue { $0 = true } }
        XCTAssertTrue(terminatedLate.withLockedValue { $0 }, "a termination set after the end runs at once")
    }
}

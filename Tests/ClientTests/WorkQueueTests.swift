import Client
import NIOConcurrencyHelpers
import XCTest

/// The work queue layers, driven by `FakeTime`: nothing here sleeps.
final class WorkQueueTests: XCTestCase {
    func testDuplicateAddsBeforeTakeQueueOnce() async {
        let queue = WorkQueue<String>()
        queue.add("a")
        queue.add("b")
        queue.add("a")
        XCTAssertEqual(queue.count, 2)
        let first = await queue.get()
        let second = await queue.get()
        XCTAssertEqual([first, second], ["a", "b"])
        XCTAssertEqual(queue.count, 0)
        XCTAssertEqual(queue.metrics.adds, 2)
    }

    func testKeysComeOutInAddOrder() async {
        let queue = WorkQueue<Int>()
        for key in [5, 3, 9, 1, 7] { queue.add(key) }
        var out: [Int] = []
        for _ in 0..<5 { await queue.get().map { out.append($0) } }
        XCTAssertEqual(out, [5, 3, 9, 1, 7])
    }

    func testKeyBeingProcessedIsRequeuedOnlyWhenDone() async {
        let queue = WorkQueue<String>()
        queue.add("a")
        let taken = await queue.get()
        XCTAssertEqual(taken, "a")
        queue.add("a")
        queue.add("a")
        XCTAssertEqual(queue.count, 0, "a key in processing must not be handed to a second worker")
        queue.add("b")
        XCTAssertEqual(queue.count, 1)
        queue.done("a")
        XCTAssertEqual(queue.count, 2)
        let next = await queue.get()
        let last = await queue.get()
        XCTAssertEqual([next, last], ["b", "a"])
        queue.done("a")
        queue.done("b")
        XCTAssertEqual(queue.count, 0, "done without a re-add queues nothing")
    }

    func testGetWaitsForAnAdd() async {
        let queue = WorkQueue<String>()
        let worker = Task { await queue.get() }
        await Task.yield()
        queue.add("late")
        let key = await worker.value
        XCTAssertEqual(key, "late")
    }

    func testShutDownWakesEveryWaiterAndIgnoresLaterAdds() async {
        let queue = WorkQueue<String>()
        let workers = (0..<3).map { _ in Task { await queue.get() } }
        for _ in 0..<10 { await Task.yield() }
        queue.shutDown()
        for worker in workers {
            let key = await worker.value
            XCTAssertNil(key)
        }
        queue.add("after")
        XCTAssertEqual(queue.count, 0)
        XCTAssertTrue(queue.isShuttingDown)
    }

    func testShutDownStillHandsOutQueuedKeys() async {
        let queue = WorkQueue<String>()
        queue.add("a")
        queue.shutDown()
        let first = await queue.get()
        let second = await queue.get()
        XCTAssertEqual(first, "a")
        XCTAssertNil(second)
    }

    func testCancelledGetReturnsNil() async {
        let queue = WorkQueue<String>()
        let worker = Task { await queue.get() }
        worker.cancel()
        let key = await worker.value
        XCTAssertNil(key)
        queue.add("a")
        XCTAssertEqual(queue.count, 1, "a cancelled worker must not swallow a later key")
    }

    func testShutDownWithDrainWaitsForWorkInProgress() async {
        let queue = WorkQueue<String>()
        queue.add("a")
        _ = await queue.get()
        let drained = NIOLockedValueBox(false)
        let drain = Task {
            await queue.shutDownWithDrain()
            drained.withLockedValue { $0 = true }
        }
        for _ in 0..<20 { await Task.yield() }
        XCTAssertFalse(drained.withLockedValue { $0 }, "drain returned while a key was still being processed")
        queue.done("a")
        await drain.value
        XCTAssertTrue(drained.withLockedValue { $0 })
    }

    func testConcurrentWorkersNeverShareAKey() async {
        let queue = WorkQueue<Int>()
        let inFlight = NIOLockedValueBox(Set<Int>())
        let overlaps = NIOLockedValueBox(0)
        let processed = NIOLockedValueBox(0)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    while let key = await queue.get() {
                        let fresh = inFlight.withLockedValue { $0.insert(key).inserted }
                        if !fresh { overlaps.withLockedValue { $0 += 1 } }
                        await Task.yield()
                        inFlight.withLockedValue { _ = $0.remove(key) }
                        processed.withLockedValue { $0 += 1 }
                        queue.done(key)
                    }
                }
            }
            for round in 0..<400 {
                queue.add(round % 7)
                if round % 3 == 0 { await Task.yield() }
            }
            await queue.shutDownWithDrain()
        }
        XCTAssertEqual(overlaps.withLockedValue { $0 }, 0)
        XCTAssertGreaterThanOrEqual(processed.withLockedValue { $0 }, 7)
        XCTAssertEqual(queue.count, 0)
    }

    func testMetricsMeasureQueueAndWorkDurations() async {
        let time = FakeTime()
        let queue = WorkQueue<String>(name: "things", time: time)
        queue.add("a")
        queue.add("b")
        time.advance(by: .seconds(3))
        XCTAssertEqual(queue.metrics.depth, 2)
        _ = await queue.get()
        time.advance(by: .seconds(2))
        var metrics = queue.metrics
        XCTAssertEqual(metrics.name, "things")
        XCTAssertEqual(metrics.depth, 1)
        XCTAssertEqual(metrics.adds, 2)
        XCTAssertEqual(metrics.queueDuration.count, 1)
        XCTAssertEqual(metrics.queueDuration.sum, 3, accuracy: 1e-9)
        XCTAssertEqual(metrics.longestRunningProcessorSeconds, 2, accuracy: 1e-9)
        XCTAssertEqual(metrics.unfinishedWorkSeconds, 2, accuracy: 1e-9)
        queue.done("a")
        metrics = queue.metrics
        XCTAssertEqual(metrics.workDuration.count, 1)
        XCTAssertEqual(metrics.workDuration.sum, 2, accuracy: 1e-9)
        XCTAssertEqual(metrics.workDuration.cumulativeCounts, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        XCTAssertEqual(metrics.longestRunningProcessorSeconds, 0)
    }

    func testHistogramBucketsAreCumulative() {
        var histogram = DurationHistogram(upperBounds: [0.1, 1, 10])
        histogram.observe(.milliseconds(50))
        histogram.observe(.milliseconds(500))
        histogram.observe(.seconds(20))
        XCTAssertEqual(histogram.cumulativeCounts, [1, 2, 2])
        XCTAssertEqual(histogram.count, 3)
        XCTAssertEqual(histogram.sum, 20.55, accuracy: 1e-9)
        XCTAssertEqual(DurationHistogram.workQueueBuckets.first ?? 0, 1e-8, accuracy: 1e-20)
        XCTAssertEqual(DurationHistogram.workQueueBuckets.last ?? 0, 10, accuracy: 1e-9)
    }
}

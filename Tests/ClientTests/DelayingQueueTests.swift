import Client
import XCTest

/// The delaying and rate-limiting layers on `FakeTime`.
final class DelayingQueueTests: XCTestCase {
    func testDelayedKeyArrivesOnlyWhenItsTimeComes() async {
        let time = FakeTime()
        let queue = DelayingQueue<String>(time: time)
        defer { queue.shutDown() }
        queue.add("later", after: .seconds(5))
        queue.add("sooner", after: .seconds(1))
        queue.add("now", after: .zero)
        XCTAssertEqual(queue.count, 1)
        XCTAssertEqual(queue.waitingCount, 2)
        let now = await queue.get()
        XCTAssertEqual(now, "now")
        time.advance(by: .seconds(1))
        let sooner = await queue.get()
        XCTAssertEqual(sooner, "sooner")
        XCTAssertEqual(queue.waitingCount, 1)
        time.advance(by: .seconds(4))
        let later = await queue.get()
        XCTAssertEqual(later, "later")
    }

    func testKeyAddedWithSeveralDelaysFiresOnceAtTheEarliest() async {
        let time = FakeTime()
        let queue = DelayingQueue<String>(time: time)
        defer { queue.shutDown() }
        queue.add("a", after: .seconds(2))
        queue.add("a", after: .seconds(1))
        queue.add("a", after: .seconds(3))
        queue.add("sentinel", after: .seconds(3))
        XCTAssertEqual(queue.waitingCount, 2)
        time.advance(by: .seconds(1))
        let first = await queue.get()
        XCTAssertEqual(first, "a")
        queue.done("a")
        time.advance(by: .seconds(2))
        // Had the 2 s or 3 s entry for "a" survived, it would be queued ahead of the sentinel.
        let second = await queue.get()
        XCTAssertEqual(second, "sentinel")
        XCTAssertEqual(queue.count, 0)
    }

    func testKeysDueTogetherArriveInDeadlineOrder() async {
        let time = FakeTime()
        let queue = DelayingQueue<Int>(time: time)
        defer { queue.shutDown() }
        queue.add(3, after: .seconds(3))
        queue.add(1, after: .seconds(1))
        queue.add(2, after: .seconds(2))
        time.advance(by: .seconds(10))
        var out: [Int] = []
        for _ in 0..<3 { await queue.get().map { out.append($0) } }
        XCTAssertEqual(out, [1, 2, 3])
    }

    func testShutDownDropsWaitingKeysAndWakesWorkers() async {
        let time = FakeTime()
        let queue = DelayingQueue<String>(time: time)
        queue.add("a", after: .seconds(1))
        let worker = Task { await queue.get() }
        queue.shutDown()
        let key = await worker.value
        XCTAssertNil(key)
        XCTAssertEqual(queue.waitingCount, 0)
        queue.add("b", after: .seconds(1))
        XCTAssertEqual(queue.waitingCount, 0)
    }

    func testRateLimitedRetriesBackOffAndForgetResets() async {
        let time = FakeTime()
        let limiter = ItemExponentialFailureRateLimiter<String>(base: .seconds(1), maximum: .seconds(60))
        let queue = RateLimitingQueue<String>(name: "retries", rateLimiter: limiter, time: time)
        defer { queue.shutDown() }
        queue.addRateLimited("a")
        XCTAssertEqual(queue.count, 0)
        time.advance(by: .seconds(1))
        var key = await queue.get()
        XCTAssertEqual(key, "a")
        queue.done("a")
        queue.addRateLimited("a")
        queue.add("sentinel", after: .milliseconds(1999))
        XCTAssertEqual(queue.numRequeues("a"), 2)
        time.advance(by: .milliseconds(1999))
        key = await queue.get()
        XCTAssertEqual(key, "sentinel", "the second retry must wait 2 s, not 1 s")
        time.advance(by: .milliseconds(1))
        key = await queue.get()
        XCTAssertEqual(key, "a")
        XCTAssertEqual(queue.metrics.retries, 2)
        queue.forget("a")
        XCTAssertEqual(queue.numRequeues("a"), 0)
    }
}

/// The rate limiters' arithmetic, as upstream's.
final class RateLimiterTests: XCTestCase {
    func testExponentialBackoffDoublesPerKeyUpToTheMaximum() {
        let limiter = ItemExponentialFailureRateLimiter<String>(base: .milliseconds(5), maximum: .seconds(1000))
        XCTAssertEqual((0..<4).map { _ in limiter.when("a") }, [5, 10, 20, 40].map { Duration.milliseconds($0) })
        XCTAssertEqual(limiter.when("b"), .milliseconds(5), "keys back off independently")
        XCTAssertEqual(limiter.numRequeues("a"), 4)
        limiter.forget("a")
        XCTAssertEqual(limiter.numRequeues("a"), 0)
        XCTAssertEqual(limiter.when("a"), .milliseconds(5))
        for _ in 0..<2000 { _ = limiter.when("c") }
        XCTAssertEqual(limiter.when("c"), .seconds(1000), "a key that failed thousands of times waits the maximum")
        // 5 ms · 2^17 = 655.36 s is the last step below the cap; 2^18 crosses it.
        let fresh = ItemExponentialFailureRateLimiter<String>(base: .milliseconds(5), maximum: .seconds(1000))
        let steps = (0..<19).map { _ in fresh.when("d") }
        XCTAssertEqual(steps[17], .milliseconds(655_360))
        XCTAssertEqual(steps[18], .seconds(1000))
    }

    func testBucketAllowsBurstThenPacesAtQPS() {
        let time = FakeTime()
        let limiter = BucketRateLimiter<String>(qps: 10, burst: 100, time: time)
        for index in 0..<100 { XCTAssertEqual(limiter.when("k\(index)"), .zero) }
        XCTAssertEqual(limiter.when("x"), .milliseconds(100))
        XCTAssertEqual(limiter.when("y"), .milliseconds(200))
        time.advance(by: .seconds(1))
        // 10 tokens refilled, 2 of them already promised to x and y.
        for _ in 0..<8 { XCTAssertEqual(limiter.when("z"), .zero) }
        XCTAssertEqual(limiter.when("z"), .milliseconds(100))
        time.advance(by: .seconds(3600))
        for _ in 0..<100 { XCTAssertEqual(limiter.when("w"), .zero) }
        XCTAssertEqual(limiter.when("w"), .milliseconds(100), "refills stop at the burst size")
        XCTAssertEqual(limiter.numRequeues("w"), 0)
    }

    func testDefaultControllerLimiterTakesTheLongerWait() {
        let time = FakeTime()
        let limiter = MaxOfRateLimiter<String>.defaultController(time: time)
        XCTAssertEqual(limiter.when("a"), .milliseconds(5))
        XCTAssertEqual(limiter.when("a"), .milliseconds(10))
        for index in 0..<98 { _ = limiter.when("k\(index)") }
        // The bucket is empty now: its 100 ms beats the fresh key's 5 ms.
        XCTAssertEqual(limiter.when("b"), .milliseconds(100))
        XCTAssertEqual(limiter.numRequeues("a"), 2)
        limiter.forget("a")
        XCTAssertEqual(limiter.numRequeues("a"), 0)
    }
}

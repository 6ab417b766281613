import Foundation
import Logging
import TestSupport
import XCTest

@testable import Client

/// Client-side rate limiting, retries and the configuration a component builds, without sleeping.
final class RateLimitTests: XCTestCase {
    // MARK: Token bucket

    func testTheBucketLetsABurstThroughThenRefillsAtQPS() {
        let time = FakeTime()
        var bucket = TokenBucket(qps: 5, burst: 10, now: time.now)
        XCTAssertEqual((0..<10).map { _ in bucket.reserve(now: time.now) }, Array(repeating: .zero, count: 10))
        // Callers beyond the burst queue behind each other, one token every 200 ms.
        XCTAssertEqual(bucket.reserve(now: time.now), .milliseconds(200))
        XCTAssertEqual(bucket.reserve(now: time.now), .milliseconds(400))
        time.advance(by: .seconds(10))
        XCTAssertEqual(bucket.reserve(now: time.now), .zero, "a long idle refills up to the burst, no further")
        XCTAssertFalse(bucket.isFull(now: time.now))
        time.advance(by: .milliseconds(200))
        XCTAssertTrue(bucket.isFull(now: time.now))

        var strict = TokenBucket(qps: 1, burst: 1, now: time.now)
        XCTAssertTrue(strict.tryTake(now: time.now))
        XCTAssertFalse(strict.tryTake(now: time.now), "tryTake never borrows a future token")
        time.advance(by: .seconds(1))
        XCTAssertTrue(strict.tryTake(now: time.now))
    }

    func testTheLimiterUsesClientGosDefaultsAndCanBeTurnedOff() throws {
        var configuration = try ClientConfiguration(server: "https://127.0.0.1:6443")
        XCTAssertEqual(configuration.qps, 5)
        XCTAssertEqual(configuration.burst, 10)
        XCTAssertNotNil(RequestRateLimiter(configuration: configuration, timeSource: FakeTime()))
        configuration.qps = -1
        XCTAssertNil(RequestRateLimiter(configuration: configuration, timeSource: FakeTime()))
    }

    func testWaitersBeyondTheBurstSleepUntilTheirTokenIsDue() async throws {
        let time = FakeTime()
        let limiter = RequestRateLimiter(qps: 2, burst: 2, timeSource: time)
        try await limiter.wait()
        try await limiter.wait()
        let third = Task { try await limiter.wait() }
        for _ in 0..<500 where time.sleeperCount == 0 { try await Task.sleep(for: .milliseconds(2)) }
        XCTAssertEqual(time.sleeperCount, 1, "the third request must wait")
        time.advance(by: .milliseconds(499))
        XCTAssertEqual(time.sleeperCount, 1)
        time.advance(by: .milliseconds(1))
        try await third.value
        third.cancel()
    }

    // MARK: Retries

    /// Answers from a script, counting the attempts.
    private actor ScriptedTransport {
        private var script: [Result<Response, ClientError>]
        private(set) var attempts = 0

        init(_ script: [Result<Response, ClientError>]) { self.script = script }

        func next() throws -> Response {
            attempts += 1
            return try script.removeFirst().get()
        }
    }

    private static let tooMany = Response(
        status: 429, headers: [Header(name: "retry-after", value: "3")], body: Array(#"{"kind":"Status"}"#.utf8))

    /// A clock whose sleeps return at once, having moved time on by what was asked.
    private final class SkippingTime: TimeSource {
        private let base = FakeTime()
        var now: ContinuousClock.Instant { base.now }
        var wallNow: Date { base.wallNow }

        func sleep(until deadline: ContinuousClock.Instant) async throws {
            try Task.checkCancellation()
            if deadline > base.now { base.advance(by: deadline - base.now) }
        }
    }

    /// Runs the retrier over `script`: the result, the attempts made and the time slept between them.
    private func run(_ method: RequestMethod, _ script: [Result<Response, ClientError>]) async
        -> (Result<Response, any Error>, attempts: Int, waited: Duration)
    {
        let time = SkippingTime()
        let transport = ScriptedTransport(script)
        let retrier = RequestRetrier(rateLimiter: nil, timeSource: time)
        let start = time.now
        let result: Result<Response, any Error>
        do {
            result = .success(
                try await retrier.run(Request(method: method, path: "/api/v1/pods"), throttled: true) {
                    try await transport.next()
                })
        } catch {
            result = .failure(error)
        }
        return (result, await transport.attempts, time.now - start)
    }

    func testA429WithRetryAfterIsRetriedAfterTheDelayItAsksForForAnyVerb() async throws {
        for method in [RequestMethod.get, .post, .patch] {
            let (result, attempts, waited) = await run(
                method, [.success(Self.tooMany), .success(Response(status: 201))])
            XCTAssertEqual(try result.get().status, 201, "\(method)")
            XCTAssertEqual(attempts, 2)
            XCTAssertGreaterThanOrEqual(waited, .seconds(3), "Retry-After: 3 must be honoured")
        }
    }

    func testRetriesStopAfterTen() async throws {
        let (result, attempts, _) = await run(.get, Array(repeating: .success(Self.tooMany), count: 11))
        XCTAssertEqual(try result.get().status, 429, "the last answer is the caller's")
        XCTAssertEqual(attempts, 11)
    }

    func testOnlyAnswersThatAskForItAreRetried() async throws {
        let unavailable = Response(status: 503)
        let (result, attempts, _) = await run(.get, [.success(unavailable)])
        XCTAssertEqual(try result.get().status, 503, "a 5xx without Retry-After is final")
        XCTAssertEqual(attempts, 1)
        XCTAssertNil(
            RequestRetrier.retryAfter(Response(status: 409, headers: [Header(name: "retry-after", value: "1")])))
        XCTAssertNil(
            RequestRetrier.retryAfter(Response(status: 500, headers: [Header(name: "retry-after", value: "soon")])))
        XCTAssertEqual(
            RequestRetrier.retryAfter(Response(status: 500, headers: [Header(name: "retry-after", value: "2")])),
            .seconds(2))
    }

    func testALostConnectionIsRetriedWithBackoffOnlyForRepeatableVerbs() async throws {
        for method in [RequestMethod.get, .put, .delete] {
            let (result, attempts, waited) = await run(
                method, [.failure(.connectionClosed), .failure(.connectionClosed), .success(Response(status: 200))])
            XCTAssertEqual(try result.get().status, 200, "\(method)")
            XCTAssertEqual(attempts, 3)
            XCTAssertGreaterThanOrEqual(waited, .milliseconds(300), "100 ms, then 200 ms")
        }
        for method in [RequestMethod.post, .patch] {
            let (result, attempts, _) = await run(
                method, [.failure(.connectionClosed), .success(Response(status: 201))])
            XCTAssertThrowsError(try result.get(), "\(method) could apply twice")
            XCTAssertEqual(attempts, 1)
        }
        XCTAssertEqual(RequestRetrier.backoff(afterRetry: 1), .milliseconds(100))
        XCTAssertEqual(RequestRetrier.backoff(afterRetry: 10), .seconds(5))
    }

    // MARK: The client itself

    func testTheClientWaitsForATokenButAWatchDoesNot() async throws {
        let endpoint = try await LocalAPIServer.shared.start()
        var configuration = try ClientConfiguration.load(kubeconfigPath: endpoint.kubeconfigPath)
        configuration.qps = 1
        configuration.burst = 1
        let time = FakeTime()
        let client = try RESTClient(configuration: configuration, timeSource: time)
        _ = try await client.get(path: "/version")
        let second = Task { try await client.get(path: "/version").status }
        for _ in 0..<500 where time.sleeperCount == 0 { try await Task.sleep(for: .milliseconds(2)) }
        XCTAssertEqual(time.sleeperCount, 1, "the second request waits for its token")
        // A watch is one long request: it is not held back by the limiter (the clock is still stopped).
        let watching = Task { _ = try await client.watch(path: "/api/v1/namespaces") }
        let accepted = Task {
            try await watching.value
            return true
        }
        let timeout = Task {
            try? await Task.sleep(for: .seconds(5))
            accepted.cancel()
            watching.cancel()
        }
        let watchStarted = (try? await accepted.value) ?? false
        timeout.cancel()
        XCTAssertTrue(watchStarted, "the watch waited for a rate-limit token")
        time.advance(by: .seconds(1))
        let status = try await second.value
        XCTAssertEqual(status, 200)
        await client.shutdown()
    }
}

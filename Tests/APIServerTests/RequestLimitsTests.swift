import APIMachinery
import Foundation
import NIOHTTP1
import Storage
import XCTest

@testable import APIServer

/// `--max-requests-inflight`, `--max-mutating-requests-inflight` and `--request-timeout`: 429 beyond the
/// limits (long-running requests, health probes and system:masters exempt), 504 past the deadline.
final class RequestLimitsTests: XCTestCase {
    static let jane = UserInfo(name: "jane", groups: ["system:authenticated"])
    static let admin = UserInfo(name: "admin", groups: ["system:masters", "system:authenticated"])

    /// Requests that wait until the test opens the gate.
    final class Gate: @unchecked Sendable {
        private let lock = NSLock()
        private var open = false
        private var waiters: [CheckedContinuation<Void, Never>] = []
        private(set) var entered = 0

        func pass() async {
            await withCheckedContinuation { continuation in
                lock.lock()
                entered += 1
                if open {
                    lock.unlock()
                    continuation.resume()
                } else {
                    waiters.append(continuation)
                    lock.unlock()
                }
            }
        }

        func release() {
            lock.lock()
            open = true
            let waiting = waiters
            waiters = []
            lock.unlock()
            for waiter in waiting { waiter.resume() }
        }

        var waiting: Int {
            lock.lock()
            defer { lock.unlock() }
            return waiters.count
        }
    }

    static func request(_ method: HTTPMethod, _ uri: String, user: UserInfo? = jane) -> HTTPRequest {
        HTTPRequest(method: method, uri: uri, headers: [:], user: user)
    }

    static func info(_ request: HTTPRequest) -> RequestInfo? {
        RequestInfo(method: request.method, path: request.path, query: request.query)
    }

    func limits(readOnly: Int = 2, mutating: Int = 1, timeout: Duration = .seconds(60)) -> RequestLimits {
        var configuration = RequestLimits.Configuration()
        configuration.maxRequestsInFlight = readOnly
        configuration.maxMutatingRequestsInFlight = mutating
        configuration.requestTimeout = timeout
        return RequestLimits(configuration: configuration)
    }

    /// Starts `request` in the background; it holds its slot until the gate opens.
    func start(_ limits: RequestLimits, _ request: HTTPRequest, gate: Gate) -> Task<HTTPResponse, Never> {
        let info = Self.info(request)
        return Task.detached { [limits, request, gate] in
            await limits.handle(request, info: info) { _ in
                await gate.pass()
                return .text("done")
            }
        }
    }

    func waitFor(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            guard ContinuousClock.now < deadline else { return XCTFail("condition not met in time") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func expectStatus(
        _ response: @autoclosure () async -> HTTPResponse, _ status: HTTPResponseStatus, _ message: String = "",
        file: StaticString = #filePath, line: UInt = #line
    ) async {
        let actual = await response().status
        XCTAssertEqual(actual, status, message, file: file, line: line)
    }

    func quick(_ limits: RequestLimits, _ request: HTTPRequest) async -> HTTPResponse {
        await limits.handle(request, info: Self.info(request)) { _ in .text("done") }
    }

    func testBeyondTheReadOnlyLimitRequestsGet429WithRetryAfter() async throws {
        let limits = limits(readOnly: 2, mutating: 1)
        let gate = Gate()
        let held = [
            start(limits, Self.request(.GET, "/api/v1/pods"), gate: gate),
            start(limits, Self.request(.GET, "/api/v1/namespaces/a/pods/x"), gate: gate),
        ]
        try await waitFor { gate.waiting == 2 }
        XCTAssertEqual(limits.current.readOnly, 2)

        let refused = await quick(limits, Self.request(.GET, "/api/v1/nodes"))
        XCTAssertEqual(refused.status, .tooManyRequests)
        XCTAssertEqual(refused.headers.first(name: "Retry-After"), "1")
        XCTAssertEqual(refused.headers.first(name: "Content-Type"), "text/plain; charset=utf-8")
        guard case .bytes(let body) = refused.body else { return XCTFail("a 429 has a body") }
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "Too many requests, please try again later.\n")

        // Mutating requests have their own pool; watches, log streams and probes are not counted at all;
        // system:masters is always served.
        let exempt = [
            Self.request(.POST, "/api/v1/namespaces/a/pods"),
            Self.request(.GET, "/api/v1/pods?watch=true"),
            Self.request(.GET, "/api/v1/watch/namespaces/a/pods"),
            Self.request(.GET, "/api/v1/namespaces/a/pods/x/log?follow=true"),
            Self.request(.GET, "/healthz"), Self.request(.GET, "/readyz"), Self.request(.GET, "/livez"),
            Self.request(.GET, "/api/v1/nodes", user: Self.admin),
        ]
        for request in exempt {
            let response = await quick(limits, request)
            XCTAssertEqual(response.status, .ok, request.uri)
        }
        await expectStatus(await quick(limits, Self.request(.GET, "/version")), .tooManyRequests)

        gate.release()
        for task in held { await expectStatus(await task.value, .ok) }
        XCTAssertEqual(limits.current.readOnly, 0, "slots are given back")
        await expectStatus(await quick(limits, Self.request(.GET, "/api/v1/nodes")), .ok)
    }

    func testMutatingLimitCountsEveryVerbButGetListWatch() async throws {
        let limits = limits(readOnly: 5, mutating: 1)
        let gate = Gate()
        let held = start(limits, Self.request(.DELETE, "/api/v1/namespaces/a/pods/x"), gate: gate)
        try await waitFor { gate.waiting == 1 }
        for method in [HTTPMethod.POST, .PUT, .PATCH, .DELETE] {
            await expectStatus(
                await quick(limits, Self.request(method, "/api/v1/namespaces/a/configmaps/y")), .tooManyRequests,
                "\(method)")
        }
        await expectStatus(await quick(limits, Self.request(.GET, "/api/v1/namespaces/a/configmaps/y")), .ok)
        gate.release()
        _ = await held.value
        XCTAssertEqual(limits.current.mutating, 0)
    }

    func testZeroMeansUnlimited() async throws {
        let limits = limits(readOnly: 0, mutating: 0)
        let gate = Gate()
        let held = (0..<20).map { _ in start(limits, Self.request(.GET, "/api/v1/pods"), gate: gate) }
        try await waitFor { gate.waiting == 20 }
        gate.release()
        for task in held { await expectStatus(await task.value, .ok) }
    }

    func testSlowRequestGets504WithUpstreamsStatusAndIsCancelled() async throws {
        let limits = limits(timeout: .milliseconds(200))
        let cancelled = expectation(description: "the timed-out work is cancelled")
        let started = ContinuousClock.now
        let request = Self.request(.GET, "/api/v1/pods")
        let response = await limits.handle(request, info: Self.info(request)) { _ in
            do {
                try await Task.sleep(for: .seconds(10))
            } catch {
                cancelled.fulfill()
            }
            return .text("late")
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
        XCTAssertEqual(response.status, .gatewayTimeout)
        guard case .bytes(let body) = response.body else { return XCTFail("a 504 has a body") }
        XCTAssertEqual(
            String(decoding: body, as: UTF8.self),
            #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Timeout: request did not complete within the allotted timeout","reason":"Timeout","details":{},"code":504}"#
        )
        await fulfillment(of: [cancelled], timeout: 5)
        try await waitFor { limits.current.readOnly == 0 }
    }

    func testTimeoutQueryParameterShortensButNeverExtendsTheDeadline() async throws {
        let limits = limits(timeout: .seconds(30))
        func timed(_ uri: String, sleeping: Duration) async -> (HTTPResponse, Duration) {
            let started = ContinuousClock.now
            let request = Self.request(.GET, uri)
            let response = await limits.handle(request, info: Self.info(request)) { _ in
                try? await Task.sleep(for: sleeping)
                return .text("done")
            }
            return (response, ContinuousClock.now - started)
        }
        let (short, elapsed) = await timed("/api/v1/pods?timeout=150ms", sleeping: .seconds(5))
        XCTAssertEqual(short.status, .gatewayTimeout)
        XCTAssertLessThan(elapsed, .seconds(2))
        await expectStatus(await timed("/api/v1/pods?timeout=0s", sleeping: .milliseconds(300)).0, .ok)
        await expectStatus(await timed("/api/v1/pods?timeout=1h", sleeping: .milliseconds(300)).0, .ok)
        // Watches are long-running: no deadline at all.
        await expectStatus(await timed("/api/v1/pods?watch=1&timeout=100ms", sleeping: .milliseconds(400)).0, .ok)

        let bad = await timed("/api/v1/pods?timeout=soon", sleeping: .zero).0
        XCTAssertEqual(bad.status, .badRequest)
        guard case .bytes(let body) = bad.body else { return XCTFail("a 400 has a body") }
        XCTAssertEqual(
            try JSON.parse(body)["message"],
            "invalid timeout specified in the request URL - time: invalid duration \"soon\"")
    }

    func testFastRequestsAreAnsweredAndNotTimedOut() async {
        let limits = limits(timeout: .milliseconds(500))
        for index in 0..<200 {
            let request = Self.request(.GET, "/api/v1/namespaces/a/configmaps/c\(index)")
            let response = await limits.handle(request, info: Self.info(request)) { _ in .text("\(index)") }
            guard case .bytes(let body) = response.body else { return XCTFail("bytes") }
            XCTAssertEqual(String(decoding: body, as: UTF8.self), "\(index)")
        }
    }

    /// The limits as the API server applies them, over a store whose reads wait for the test.
    func testServerAppliesTheLimitsBehindAuthentication() async throws {
        let store = GatedStore()
        var configuration = APIServer.Configuration()
        configuration.limits.maxRequestsInFlight = 1
        configuration.limits.requestTimeout = .seconds(30)
        let server = APIServer(storage: store, configuration: configuration)
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        store.closeGate()
        let request = Self.request(.GET, "/api/v1/namespaces/default")
        let first = Task.detached { [server, request] in await server.respond(to: request) }
        try await waitFor { store.gate.waiting == 1 }
        let second = await server.respond(to: Self.request(.GET, "/api/v1/namespaces/default"))
        XCTAssertEqual(second.status, .tooManyRequests)
        XCTAssertNotNil(second.headers.first(name: "Audit-Id"))
        store.gate.release()
        await expectStatus(await first.value, .ok)

        configuration.limits.requestTimeout = .milliseconds(200)
        let timing = APIServer(storage: store, configuration: configuration)
        store.closeGate()
        let timedOut = await timing.respond(to: Self.request(.GET, "/api/v1/namespaces/default"))
        XCTAssertEqual(timedOut.status, .gatewayTimeout)
        store.gate.release()
    }
}

/// A MemoryStore whose point reads of the default namespace wait at a gate while it is closed.
final class GatedStore: ForwardingStore, @unchecked Sendable {
    private let lock = NSLock()
    private var current: RequestLimitsTests.Gate?

    var gate: RequestLimitsTests.Gate {
        lock.lock()
        defer { lock.unlock() }
        return current ?? RequestLimitsTests.Gate()
    }

    func closeGate() {
        lock.lock()
        current = RequestLimitsTests.Gate()
        lock.unlock()
    }

    override func get(key: String) async throws -> KeyValue? {
        let gate = lock.withLock { current }
        if key.hasSuffix("/namespaces/default") { await gate?.pass() }
        return try await base.get(key: key)
    }
}

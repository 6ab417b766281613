import APIMachinery
import Component
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// Upstream's `BasicLongRunningRequestCheck`: watches, proxies and streaming subresources run for as
/// long as the client wants, so neither the in-flight limits nor the request timeout apply to them.
enum LongRunningRequest {
    static let verbs: Set<String> = ["watch", "proxy"]
    static let subresources: Set<String> = ["attach", "exec", "proxy", "log", "portforward"]

    static func check(path: String, info: RequestInfo?) -> Bool {
        guard let info else { return path.hasPrefix("/debug/pprof/") }
        return verbs.contains(info.verb) || subresources.contains(info.subresource ?? "")
    }
}

/// `--max-requests-inflight`, `--max-mutating-requests-inflight` and `--request-timeout`, as upstream's
/// WithMaxInFlightLimit and WithTimeoutForNonLongRunningRequests filters: beyond a limit a request gets
/// 429 with `Retry-After: 1`; a request still running at its deadline gets 504 and is cancelled.
public final class RequestLimits: Sendable {
    /// The flag values; a limit of 0 means unlimited, as upstream.
    public struct Configuration: Sendable {
        public var maxRequestsInFlight = 400
        public var maxMutatingRequestsInFlight = 200
        public var requestTimeout: Duration = .seconds(60)
        public init() {}
    }

    static let nonMutatingVerbs: Set<String> = ["get", "list", "watch"]
    /// Health probes must answer even when the server is saturated.
    static let exemptPaths: Set<String> = ["/healthz", "/livez", "/readyz"]

    let configuration: Configuration
    private let inFlight = NIOLockedValueBox<(readOnly: Int, mutating: Int)>((0, 0))
    private let eventLoops: any EventLoopGroup

    init(configuration: Configuration, eventLoops: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.eventLoops = eventLoops
    }

    /// Requests being served now, as (read-only, mutating).
    var current: (readOnly: Int, mutating: Int) { inFlight.withLockedValue { $0 } }

    /// Runs `next` within the limits.
    func handle(
        _ request: HTTPRequest, info: RequestInfo?, next: @escaping @Sendable (HTTPRequest) async -> HTTPResponse
    ) async -> HTTPResponse {
        if LongRunningRequest.check(path: request.path, info: info) { return await next(request) }
        var timeout = configuration.requestTimeout
        if let text = request.query["timeout"], !text.isEmpty {
            // As upstream's WithRequestDeadline: a bad value is 400; 0 or more than the maximum means the maximum.
            guard let requested = GoDuration.parse(text) else {
                return .error(
                    .badRequest(
                        "invalid timeout specified in the request URL - time: invalid duration \(JSON.string(text).jsonString)"
                    ))
            }
            if requested > .zero, requested < timeout { timeout = requested }
        }
        let mutating = !Self.nonMutatingVerbs.contains(info?.verb ?? request.method.rawValue.lowercased())
        let exempt = Self.exemptPaths.contains(request.path)
        let counted = !exempt && acquire(mutating: mutating, user: request.user)
        if !counted, !exempt, !isPrivileged(request.user) {
            return Self.tooManyRequests()
        }
        let release: @Sendable () -> Void = { [self] in if counted { self.release(mutating: mutating) } }
        guard timeout > .zero else {
            defer { release() }
            return await next(request)
        }
        return await Self.race(timeout: timeout, on: eventLoops.any()) {
            defer { release() }
            return await next(request)
        }
    }

    /// Takes a slot; false when the limit for this kind of request is reached.
    private func acquire(mutating: Bool, user: UserInfo?) -> Bool {
        let limit = mutating ? configuration.maxMutatingRequestsInFlight : configuration.maxRequestsInFlight
        return inFlight.withLockedValue { counts in
            let used = mutating ? counts.mutating : counts.readOnly
            guard limit == 0 || used < limit else { return false }
            if mutating { counts.mutating += 1 } else { counts.readOnly += 1 }
            return true
        }
    }

    private func release(mutating: Bool) {
        inFlight.withLockedValue { counts in
            if mutating { counts.mutating -= 1 } else { counts.readOnly -= 1 }
        }
    }

    /// `system:masters` is always served, as upstream: it is the super-admin or a loopback client.
    private func isPrivileged(_ user: UserInfo?) -> Bool {
        user?.groups.contains("system:masters") ?? false
    }

    /// Upstream writes this with http.Error: plain text, not a Status.
    static func tooManyRequests() -> HTTPResponse {
        var response = HTTPResponse.text("Too many requests, please try again later.\n", status: .tooManyRequests)
        response.headers.add(name: "Retry-After", value: "1")
        response.headers.add(name: "X-Content-Type-Options", value: "nosniff")
        return response
    }

    /// Upstream's `NewTimeoutError("request did not complete within the allotted timeout", 0)` body.
    static func timedOut() -> HTTPResponse {
        let error = APIError.timeout("request did not complete within the allotted timeout")
        guard case .object(let status) = error.status else { return .error(error) }
        // The Go Status carries an empty (non-nil) details object before the code.
        var ordered = JSONObject()
        for entry in status.entries {
            if entry.key == "code" { ordered["details"] = .object(JSONObject()) }
            ordered[entry.key] = entry.value
        }
        return .json(.object(ordered), status: .gatewayTimeout)
    }

    /// Answers with `work`'s response, or with 504 when `timeout` passes first; the work is then
    /// cancelled and finishes on its own, as upstream's handler goroutine does.
    static func race(
        timeout: Duration, on eventLoop: any EventLoop, work: @escaping @Sendable () async -> HTTPResponse
    ) async -> HTTPResponse {
        let race = TimeoutRace()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                race.begin(continuation)
                // On the request's event loop when it has one: an unstructured task would otherwise leave it.
                race.setWork(Task(executorPreference: EventLoopTaskExecutor.current) { race.finish(await work()) })
                // A callback rather than `scheduleTask`: no promise and future made and failed for every request.
                if let timer = try? eventLoop.scheduleCallback(
                    in: .nanoseconds(Int64(timeout.nanoseconds)), handler: race)
                {
                    race.setTimer(timer)
                }
            }
        } onCancel: {
            race.cancelWork()
        }
    }
}

extension Duration {
    /// The whole duration in nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled + attoseconds / 1_000_000_000
    }
}

/// Who answers first, the work or the timer; the loser's result is dropped.
private final class TimeoutRace: NIOScheduledCallbackHandler, @unchecked Sendable {
    private let lock = NIOLock()
    private var continuation: CheckedContinuation<HTTPResponse, Never>?
    private var work: Task<Void, Never>?
    private var timer: NIOScheduledCallback?
    private var finished = false

    private var cancelled = false

    /// Must come before the work and the timer start, so neither can finish unheard.
    func begin(_ continuation: CheckedContinuation<HTTPResponse, Never>) {
        lock.withLock { self.continuation = continuation }
    }

    func setWork(_ work: Task<Void, Never>) {
        let cancel = lock.withLock {
            self.work = work
            return cancelled
        }
        if cancel { work.cancel() }
    }

    /// The deadline passed first: 504, and the work is cancelled.
    func handleScheduledCallback(eventLoop: some EventLoop) {
        if finish(RequestLimits.timedOut()) { cancelWork() }
    }

    func setTimer(_ timer: NIOScheduledCallback) {
        let cancel = lock.withLock {
            if finished { return true }
            self.timer = timer
            return false
        }
        if cancel { timer.cancel() }
    }

    /// Resumes the waiting request with `response`; false when the other side already did.
    @discardableResult
    func finish(_ response: HTTPResponse) -> Bool {
        let (continuation, timer): (CheckedContinuation<HTTPResponse, Never>?, NIOScheduledCallback?) = lock.withLock {
            guard !finished else { return (nil, nil) }
            finished = true
            defer {
                self.continuation = nil
                self.timer = nil
            }
            return (self.continuation, self.timer)
        }
        timer?.cancel()
        continuation?.resume(returning: response)
        return continuation != nil
    }

    func cancelWork() {
        lock.withLock {
            cancelled = true
            return work
        }?.cancel()
    }
}

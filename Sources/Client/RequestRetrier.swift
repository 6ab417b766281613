/// client-go's request retries (`rest.withRetry`): an answer of 429 or 5xx carrying `Retry-After` means
/// the server did not act, so any verb is sent again after the delay it asks for; a connection lost
/// before any answer is retried, after a backoff, only for verbs that are safe to repeat.
struct RequestRetrier: Sendable {
    /// client-go's default `maxRetries`.
    static let defaultMaxRetries = 10

    /// Retries after the first attempt.
    var maxRetries = Self.defaultMaxRetries
    /// Every attempt waits here first (as client-go throttles each retry too); nil for no limit.
    let rateLimiter: RequestRateLimiter?
    let timeSource: any TimeSource

    /// Runs `attempt` until it gives an answer that is not to be retried, or the retries are spent (then
    /// the last answer, or error, is the caller's). `throttled` is false for watches, which client-go
    /// does not rate-limit.
    func run(_ request: Request, throttled: Bool, attempt: () async throws -> Response) async throws -> Response {
        var retries = 0
        while true {
            if throttled, let rateLimiter { try await rateLimiter.wait() }
            do {
                let response = try await attempt()
                guard retries < maxRetries, let wait = Self.retryAfter(response) else { return response }
                retries += 1
                try await timeSource.sleep(for: wait)
            } catch ClientError.connectionClosed where retries < maxRetries && request.method.isRepeatable {
                retries += 1
                try await timeSource.sleep(for: Self.backoff(afterRetry: retries))
            }
        }
    }

    /// upstream's `checkWait`: 429 and every 5xx ask for a retry only with a `Retry-After` in whole seconds.
    static func retryAfter(_ response: Response) -> Duration? {
        guard response.status == 429 || response.status >= 500 else { return nil }
        guard let header = response.header("retry-after"), let seconds = Int(header), seconds >= 0 else {
            return nil
        }
        return .seconds(seconds)
    }

    /// 100 ms doubling to at most 5 s: a restarting API server is back within seconds, and a dead one
    /// should surface within half a minute.
    static func backoff(afterRetry retry: Int) -> Duration {
        let exponent = min(max(retry - 1, 0), 6)
        return min(.milliseconds(100 * (1 << exponent)), .seconds(5))
    }
}

extension RequestMethod {
    /// Safe to send again when the connection died before any answer: HTTP's idempotent verbs (a repeated
    /// PUT writes the same object or meets a 409, a repeated DELETE a 404); a POST or PATCH could apply twice.
    var isRepeatable: Bool {
        switch self {
        case .get, .head, .put, .delete: return true
        case .post, .patch: return false
        }
    }
}

import NIOConcurrencyHelpers

/// Client-side rate limiting, as client-go's `flowcontrol.NewTokenBucketRateLimiter`: every request
/// but a watch waits here for a token, so a busy controller cannot flood the API server.
final class RequestRateLimiter: Sendable {
    private let bucket: NIOLockedValueBox<TokenBucket>
    private let timeSource: any TimeSource

    /// A limiter of `qps` requests a second with bursts of `burst`.
    init(qps: Double, burst: Int, timeSource: any TimeSource) {
        self.timeSource = timeSource
        bucket = NIOLockedValueBox(TokenBucket(qps: qps, burst: burst, now: timeSource.now))
    }

    /// The limiter `configuration` asks for, or nil when its `qps` is negative (limiting off).
    convenience init?(configuration: ClientConfiguration, timeSource: any TimeSource) {
        // Zero means "unset" in client-go's rest.Config, which then takes its defaults.
        let qps = configuration.qps == 0 ? ClientConfiguration.defaultQPS : configuration.qps
        guard qps > 0 else { return nil }
        let burst = configuration.burst == 0 ? ClientConfiguration.defaultBurst : configuration.burst
        self.init(qps: qps, burst: burst, timeSource: timeSource)
    }

    /// Returns when the caller's token is due; throws `CancellationError` if the task is cancelled first.
    func wait() async throws {
        let now = timeSource.now
        let delay = bucket.withLockedValue { $0.reserve(now: now) }
        if delay > .zero { try await timeSource.sleep(until: now.advanced(by: delay)) }
    }
}

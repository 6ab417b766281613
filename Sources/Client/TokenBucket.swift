/// A token bucket as golang.org/x/time/rate keeps one: `qps` tokens a second accrue up to `burst`.
/// Pure, so the client's rate limiter and the event recorder's spam filter share it and tests drive it
/// with a fake clock.
struct TokenBucket: Sendable {
    /// Tokens added per second.
    let qps: Double
    /// The most tokens the bucket holds, and so the largest burst let through at once.
    let burst: Double
    /// Tokens available; negative while reservations wait for tokens not yet accrued.
    private(set) var tokens: Double
    private var last: ContinuousClock.Instant

    /// A full bucket, as upstream's limiters start.
    init(qps: Double, burst: Int, now: ContinuousClock.Instant) {
        self.qps = qps
        self.burst = Double(max(burst, 1))
        tokens = self.burst
        last = now
    }

    /// Takes a token if one is there now; a refused caller does not queue (the spam filter's use).
    mutating func tryTake(now: ContinuousClock.Instant) -> Bool {
        refill(now: now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// Takes the next token, possibly one that has not accrued yet, and returns how long the caller must
    /// wait for it: callers queue in the order they reserved, as `rate.Limiter.Wait` serves them.
    mutating func reserve(now: ContinuousClock.Instant) -> Duration {
        refill(now: now)
        tokens -= 1
        guard tokens < 0 else { return .zero }
        return .nanoseconds(Int64((-tokens / qps * 1e9).rounded(.up)))
    }

    /// Whether the bucket has refilled to its burst by `now`, so forgetting it changes nothing.
    func isFull(now: ContinuousClock.Instant) -> Bool {
        var copy = self
        copy.refill(now: now)
        return copy.tokens >= burst
    }

    private mutating func refill(now: ContinuousClock.Instant) {
        guard now > last else { return }
        tokens = min(burst, tokens + (now - last).fractionalSeconds * qps)
        last = now
    }
}

extension Duration {
    /// The duration in seconds, fractions kept (for rates and Go-style float durations).
    var fractionalSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

import NIOConcurrencyHelpers

/// Decides how long a key waits before it is retried, as client-go's `TypedRateLimiter`.
public protocol RateLimiter<Key>: Sendable {
    associatedtype Key: Hashable & Sendable
    /// How long `key` should wait now; each call counts as one more failure for per-key limiters.
    func when(_ key: Key) -> Duration
    /// Stops tracking `key`: its next failure starts the backoff afresh.
    func forget(_ key: Key)
    /// How many times `key` has been rate limited since it was last forgotten.
    func numRequeues(_ key: Key) -> Int
}

/// Per-key exponential backoff: `base * 2^failures`, capped at `maximum`.
public final class ItemExponentialFailureRateLimiter<Key: Hashable & Sendable>: RateLimiter {
    public let base: Duration
    public let maximum: Duration
    private let failures = NIOLockedValueBox([Key: Int]())

    public init(base: Duration, maximum: Duration) {
        self.base = base
        self.maximum = maximum
    }

    public func when(_ key: Key) -> Duration {
        let exponent = failures.withLockedValue { failures in
            defer { failures[key, default: 0] += 1 }
            return failures[key, default: 0]
        }
        // Doubles, not integers: 2^exponent overflows long before a key has failed often enough to care.
        let backoff = base.nanoseconds * pow2(exponent)
        guard backoff.isFinite, backoff < maximum.nanoseconds else { return maximum }
        return .nanoseconds(Int64(backoff))
    }

    public func forget(_ key: Key) {
        failures.withLockedValue { $0[key] = nil }
    }

    public func numRequeues(_ key: Key) -> Int {
        failures.withLockedValue { $0[key, default: 0] }
    }

    private func pow2(_ exponent: Int) -> Double {
        exponent >= 1024 ? .infinity : Double(sign: .plus, exponent: exponent, significand: 1)
    }
}

/// One token bucket shared by every key (overall `qps` with bursts up to `burst`), as upstream's
/// `BucketRateLimiter` over `rate.Limiter`: each call reserves a token, waiting for it if the bucket is empty.
public final class BucketRateLimiter<Key: Hashable & Sendable>: RateLimiter {
    private struct Bucket {
        /// May go negative: reservations already handed out against future refills.
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    public let qps: Double
    public let burst: Int
    private let time: any TimeSource
    private let bucket: NIOLockedValueBox<Bucket>

    /// A bucket refilled at `qps` tokens a second, holding at most `burst`; it starts full.
    public init(qps: Double, burst: Int, time: any TimeSource = SystemTime()) {
        self.qps = qps
        self.burst = burst
        self.time = time
        bucket = NIOLockedValueBox(Bucket(tokens: Double(burst), updated: time.now))
    }

    public func when(_ key: Key) -> Duration {
        let now = time.now
        let deficit: Double = bucket.withLockedValue { bucket in
            let elapsed = max(0, bucket.updated.duration(to: now).seconds)
            bucket.tokens = min(Double(burst), bucket.tokens + elapsed * qps)
            bucket.updated = now
            bucket.tokens -= 1
            return -bucket.tokens
        }
        guard deficit > 0, qps > 0 else { return .zero }
        return .nanoseconds(Int64((deficit * 1e9 / qps).rounded()))
    }

    public func forget(_ key: Key) {}

    public func numRequeues(_ key: Key) -> Int { 0 }
}

/// The longest wait any of its limiters asks for; forgetting forgets in all of them.
public struct MaxOfRateLimiter<Key: Hashable & Sendable>: RateLimiter {
    public let limiters: [any RateLimiter<Key>]

    public init(_ limiters: [any RateLimiter<Key>]) {
        self.limiters = limiters
    }

    public func when(_ key: Key) -> Duration {
        limiters.map { $0.when(key) }.max() ?? .zero
    }

    public func forget(_ key: Key) {
        for limiter in limiters { limiter.forget(key) }
    }

    public func numRequeues(_ key: Key) -> Int {
        limiters.map { $0.numRequeues(key) }.max() ?? 0
    }
}

extension MaxOfRateLimiter {
    /// Upstream's `DefaultControllerRateLimiter`: per-key backoff from 5 ms doubling to 1000 s, and 10 qps with
    /// bursts of 100 overall, whichever is longer.
    public static func defaultController(time: any TimeSource = SystemTime()) -> MaxOfRateLimiter<Key> {
        MaxOfRateLimiter([
            ItemExponentialFailureRateLimiter<Key>(base: .milliseconds(5), maximum: .seconds(1000)),
            BucketRateLimiter<Key>(qps: 10, burst: 100, time: time),
        ])
    }
}

import Client
import NIOConcurrencyHelpers

/// A token bucket as `flowcontrol.NewTokenBucketRateLimiter`: `burst` tokens to start with, refilled at `qps`
/// per second; a rate of 0 or less never lets anything through.
struct TokenBucket: Sendable {
    let qps: Double
    let burst: Int
    private var tokens: Double
    private var last: ContinuousClock.Instant

    init(qps: Double, burst: Int, now: ContinuousClock.Instant) {
        self.qps = qps
        self.burst = burst
        tokens = qps > 0 ? Double(burst) : 0
        last = now
    }

    /// Takes a token if one is available at `now`.
    mutating func tryAccept(now: ContinuousClock.Instant) -> Bool {
        guard qps > 0 else { return false }
        let elapsed = last.duration(to: now)
        if elapsed > .zero {
            tokens = min(Double(burst), tokens + elapsed.timeInterval * qps)
            last = now
        }
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

/// Upstream's `RateLimitedTimedQueue`: node names waiting for an action, each once, taken in order of when
/// they are due, no faster than a swappable token bucket allows (burst 1, as upstream's eviction limiter).
final class RateLimitedTimedQueue: Sendable {
    /// One queued node.
    struct Entry: Sendable, Hashable {
        var value: String
        var uid: String
        var processAt: ContinuousClock.Instant
    }

    /// Upstream's `EvictionRateLimiterBurst`.
    static let burst = 1

    private struct State: Sendable {
        var entries: [Entry] = []
        var limiter: TokenBucket
    }

    private let time: any TimeSource
    private let state: NIOLockedValueBox<State>

    init(qps: Double, time: any TimeSource) {
        self.time = time
        state = NIOLockedValueBox(State(limiter: TokenBucket(qps: qps, burst: Self.burst, now: time.now)))
    }

    /// Queues `value` to be processed now, unless it is already queued; whether it was added.
    @discardableResult
    func add(_ value: String, uid: String) -> Bool {
        let now = time.now
        return state.withLockedValue { state in
            guard !state.entries.contains(where: { $0.value == value }) else { return false }
            state.entries.append(Entry(value: value, uid: uid, processAt: now))
            return true
        }
    }

    /// Drops `value`; whether it was queued.
    @discardableResult
    func remove(_ value: String) -> Bool {
        state.withLockedValue { state in
            let before = state.entries.count
            state.entries.removeAll { $0.value == value }
            return state.entries.count != before
        }
    }

    /// The queued values, in processing order.
    var values: [String] { state.withLockedValue { $0.entries.sorted { $0.processAt < $1.processAt }.map(\.value) } }

    /// The current rate.
    var qps: Double { state.withLockedValue { $0.limiter.qps } }

    /// Replaces the rate limiter; an exhausted bucket stays exhausted under the new rate (upstream drains the
    /// new limiter when the old one refuses).
    func swapLimiter(qps: Double) {
        let now = time.now
        state.withLockedValue { state in
            guard state.limiter.qps != qps else { return }
            var fresh = TokenBucket(qps: qps, burst: Self.burst, now: now)
            if !state.limiter.tryAccept(now: now) { _ = fresh.tryAccept(now: now) }
            state.limiter = fresh
        }
    }

    /// Processes due entries while the limiter allows (upstream's `Try`): `action` returns whether the entry is
    /// done; one that is not is retried after the delay it returns.
    func process(_ action: (Entry) async -> (done: Bool, retryAfter: Duration)) async {
        while let entry = nextDue() {
            let (done, retryAfter) = await action(entry)
            let now = time.now
            state.withLockedValue { state in
                guard let index = state.entries.firstIndex(where: { $0.value == entry.value }) else { return }
                if done {
                    state.entries.remove(at: index)
                } else {
                    state.entries[index].processAt = now.advanced(by: retryAfter + .nanoseconds(1))
                }
            }
        }
    }

    /// The earliest entry if it is due and the limiter gives a token for it.
    private func nextDue() -> Entry? {
        let now = time.now
        return state.withLockedValue { state in
            guard let head = state.entries.min(by: { $0.processAt < $1.processAt }) else { return nil }
            guard state.limiter.tryAccept(now: now), head.processAt <= now else { return nil }
            return head
        }
    }
}

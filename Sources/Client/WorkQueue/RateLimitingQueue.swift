/// client-go's rate-limiting layer: a `DelayingQueue` whose retries wait as long as a `RateLimiter` says.
///
/// A worker that fails on a key calls `addRateLimited(_:)`; one that succeeds calls `forget(_:)` so the key's
/// next failure backs off from the start again. Both still call `done(_:)`.
public final class RateLimitingQueue<Key: Hashable & Sendable>: Sendable {
    /// The delaying layer underneath.
    public let delaying: DelayingQueue<Key>
    public let rateLimiter: any RateLimiter<Key>

    /// A queue named `name` for metrics, limited by `rateLimiter` (upstream's default controller limiter
    /// when omitted), with delays on `time`.
    public init(
        name: String = "", rateLimiter: (any RateLimiter<Key>)? = nil, time: any TimeSource = SystemTime()
    ) {
        delaying = DelayingQueue(name: name, time: time)
        self.rateLimiter = rateLimiter ?? MaxOfRateLimiter<Key>.defaultController(time: time)
    }

    /// Adds `key` after the rate limiter's wait for it.
    public func addRateLimited(_ key: Key) {
        guard !delaying.queue.isShuttingDown else { return }
        delaying.queue.recordRetry()
        delaying.add(key, after: rateLimiter.when(key))
    }

    /// Clears `key`'s failure history in the rate limiter (it does not remove the key from the queue).
    public func forget(_ key: Key) { rateLimiter.forget(key) }

    /// How many times `key` was rate limited since it was last forgotten.
    public func numRequeues(_ key: Key) -> Int { rateLimiter.numRequeues(key) }

    /// See `WorkQueue.add(_:)`.
    public func add(_ key: Key) { delaying.add(key) }
    /// See `DelayingQueue.add(_:after:)`.
    public func add(_ key: Key, after delay: Duration) { delaying.add(key, after: delay) }
    /// See `WorkQueue.get()`.
    public func get() async -> Key? { await delaying.get() }
    /// See `WorkQueue.done(_:)`.
    public func done(_ key: Key) { delaying.done(key) }
    /// Keys ready to be taken.
    public var count: Int { delaying.count }
    /// Whether the queue was shut down.
    public var isShuttingDown: Bool { delaying.queue.isShuttingDown }
    /// See `DelayingQueue.shutDown()`.
    public func shutDown() { delaying.shutDown() }
    /// See `WorkQueue.shutDownWithDrain()`.
    public func shutDownWithDrain() async { await delaying.shutDownWithDrain() }
    /// See `WorkQueue.metrics`.
    public var metrics: WorkQueueMetrics { delaying.metrics }
}

import NIOConcurrencyHelpers

/// The base layer of client-go's work queue: a FIFO of keys that deduplicates and never lets two workers hold
/// the same key.
///
/// A key added while it waits is queued once. A key added while a worker processes it is queued again only when
/// that worker calls `done(_:)`, so every change is seen after the work that missed it, yet never concurrently.
/// After `shutDown()` adds are ignored and `get()` hands out what is still queued, then returns nil.
public final class WorkQueue<Key: Hashable & Sendable>: Sendable {
    private struct State: Sendable {
        var queue = FIFO<Key>()
        /// Keys that need processing: queued, or re-added while processing.
        var dirty: Set<Key> = []
        /// Keys handed to a worker, with when they were taken.
        var processing: [Key: ContinuousClock.Instant] = [:]
        /// When each dirty key was added, for the queue-duration metric.
        var addedAt: [Key: ContinuousClock.Instant] = [:]
        /// Workers suspended in `get()`, oldest first; only non-empty while the queue is empty.
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Key?, Never>)] = []
        var nextWaiterID: UInt64 = 0
        var shuttingDown = false
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
        var adds: UInt64 = 0
        var retries: UInt64 = 0
        var queueDuration = DurationHistogram()
        var workDuration = DurationHistogram()

        /// Marks `key` taken by a worker at `now`.
        mutating func take(_ key: Key, now: ContinuousClock.Instant) {
            dirty.remove(key)
            processing[key] = now
            if let added = addedAt.removeValue(forKey: key) {
                queueDuration.observe(added.duration(to: now))
            }
        }

        /// Queues a dirty key, or hands it straight to a waiting worker (returned, to resume outside the lock).
        mutating func enqueue(_ key: Key, now: ContinuousClock.Instant) -> CheckedContinuation<Key?, Never>? {
            if !waiters.isEmpty {
                take(key, now: now)
                return waiters.removeFirst().continuation
            }
            queue.append(key)
            return nil
        }
    }

    /// The name metrics carry (`name` label).
    public let name: String
    let time: any TimeSource
    private let state = NIOLockedValueBox(State())

    /// A queue named `name` for metrics, reading durations from `time`.
    public init(name: String = "", time: any TimeSource = SystemTime()) {
        self.name = name
        self.time = time
    }

    /// Marks `key` as needing processing; see the type's documentation for duplicates and keys being processed.
    public func add(_ key: Key) {
        let now = time.now
        let waiter: CheckedContinuation<Key?, Never>? = state.withLockedValue { state in
            guard !state.shuttingDown, !state.dirty.contains(key) else { return nil }
            state.adds += 1
            state.dirty.insert(key)
            state.addedAt[key] = now
            if state.processing[key] != nil { return nil }
            return state.enqueue(key, now: now)
        }
        waiter?.resume(returning: key)
    }

    /// Takes the oldest key, suspending until there is one; nil once the queue is shut down and empty, or when
    /// the calling task is cancelled while waiting. Call `done(_:)` when the key is processed.
    public func get() async -> Key? {
        let id = state.withLockedValue { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Key?, Never>) in
                let now = time.now
                let immediate: Key?? = state.withLockedValue { state in
                    if let key = state.queue.popFirst() {
                        state.take(key, now: now)
                        return .some(key)
                    }
                    if state.shuttingDown || Task.isCancelled { return .some(nil) }
                    state.waiters.append((id, continuation))
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLockedValue { state in
                state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0).continuation }
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Ends the processing of `key`; if it was added meanwhile, it is queued again now.
    public func done(_ key: Key) {
        let now = time.now
        let (waiter, drained): (CheckedContinuation<Key?, Never>?, [CheckedContinuation<Void, Never>]) =
            state.withLockedValue { state in
                guard let started = state.processing.removeValue(forKey: key) else { return (nil, []) }
                state.workDuration.observe(started.duration(to: now))
                if state.dirty.contains(key) { return (state.enqueue(key, now: now), []) }
                guard state.processing.isEmpty else { return (nil, []) }
                defer { state.drainWaiters = [] }
                return (nil, state.drainWaiters)
            }
        waiter?.resume(returning: key)
        for continuation in drained { continuation.resume() }
    }

    /// Keys waiting to be taken (upstream's `Len`).
    public var count: Int { state.withLockedValue { $0.queue.count } }

    /// Whether `shutDown()` was called.
    public var isShuttingDown: Bool { state.withLockedValue { $0.shuttingDown } }

    /// Stops accepting keys and wakes every waiting worker with nil.
    public func shutDown() {
        let waiters = state.withLockedValue { state in
            state.shuttingDown = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume(returning: nil) }
    }

    /// Shuts down, then returns once every key handed to a worker is done.
    public func shutDownWithDrain() async {
        shutDown()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLockedValue { state in
                if state.processing.isEmpty { return true }
                state.drainWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    /// Counts a rate-limited re-add (`workqueue_retries_total`).
    func recordRetry() {
        state.withLockedValue { $0.retries += 1 }
    }

    /// The queue's metrics now.
    public var metrics: WorkQueueMetrics {
        let now = time.now
        return state.withLockedValue { state in
            let ages = state.processing.values.map { $0.duration(to: now).seconds }
            return WorkQueueMetrics(
                name: name, depth: state.queue.count, adds: state.adds, retries: state.retries,
                queueDuration: state.queueDuration, workDuration: state.workDuration,
                unfinishedWorkSeconds: ages.reduce(0, +), longestRunningProcessorSeconds: ages.max() ?? 0)
        }
    }
}

/// An array-backed FIFO whose pops are O(1) amortised: the consumed prefix is dropped once it is half the storage.
struct FIFO<Element> {
    private var storage: [Element] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }

    mutating func append(_ element: Element) {
        storage.append(element)
    }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        head += 1
        if head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }
}

extension FIFO: Sendable where Element: Sendable {}

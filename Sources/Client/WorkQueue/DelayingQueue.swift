import NIOConcurrencyHelpers

/// client-go's delaying layer: a `WorkQueue` whose keys can be added after a delay, measured on the injected
/// `TimeSource`. A key added with several delays is added once, at the earliest deadline.
///
/// One task waits for the earliest deadline; an add with an earlier one interrupts that wait. Call `shutDown()`
/// to stop it.
public final class DelayingQueue<Key: Hashable & Sendable>: Sendable {
    struct Waiting: Sendable {
        /// The earliest deadline per key; heap entries that disagree with it are stale and skipped.
        var deadlines: [Key: ContinuousClock.Instant] = [:]
        var heap = DeadlineHeap<Key>()
        /// The pending wait and when it ends, so an earlier deadline can interrupt it.
        var sleeper: Task<Void, any Error>?
        var wakeAt: ContinuousClock.Instant?
        var stopped = false

        /// Removes and returns the keys due at `now`.
        mutating func popDue(now: ContinuousClock.Instant) -> [Key] {
            var due: [Key] = []
            while let entry = heap.first, entry.deadline <= now {
                heap.removeFirst()
                if deadlines[entry.key] == entry.deadline {
                    deadlines[entry.key] = nil
                    due.append(entry.key)
                }
            }
            return due
        }
    }

    /// The queue delayed keys land in.
    public let queue: WorkQueue<Key>
    private let waiting: NIOLockedValueBox<Waiting>
    private let loop: Task<Void, Never>

    /// A delaying queue named `name` for metrics, with delays measured on `time`.
    public init(name: String = "", time: any TimeSource = SystemTime()) {
        let queue = WorkQueue<Key>(name: name, time: time)
        let waiting = NIOLockedValueBox(Waiting())
        self.queue = queue
        self.waiting = waiting
        loop = Task { await Self.run(queue: queue, waiting: waiting, time: time) }
    }

    deinit {
        loop.cancel()
    }

    /// Adds `key` once `delay` has passed (at once when it is not positive).
    public func add(_ key: Key, after delay: Duration) {
        guard delay > .zero else {
            queue.add(key)
            return
        }
        let deadline = queue.time.now.advanced(by: delay)
        let interrupted: Task<Void, any Error>? = waiting.withLockedValue { waiting in
            guard !waiting.stopped else { return nil }
            if let current = waiting.deadlines[key], current <= deadline { return nil }
            waiting.deadlines[key] = deadline
            waiting.heap.insert(deadline: deadline, key: key)
            guard let wakeAt = waiting.wakeAt, deadline < wakeAt else { return nil }
            waiting.wakeAt = nil
            return waiting.sleeper
        }
        interrupted?.cancel()
    }

    /// Waits for the earliest deadline, adds the due keys, and again, until shut down.
    private static func run(queue: WorkQueue<Key>, waiting: NIOLockedValueBox<Waiting>, time: any TimeSource) async {
        // With nothing waiting, wake now and then anyway, as upstream's heartbeat does.
        let heartbeat = Duration.seconds(10)
        while !Task.isCancelled {
            let now = time.now
            let step: (due: [Key], sleeper: Task<Void, any Error>)? = waiting.withLockedValue { waiting in
                guard !waiting.stopped else { return nil }
                let due = waiting.popDue(now: now)
                let wakeAt =
                    waiting.heap.first.map { min($0.deadline, now.advanced(by: heartbeat)) }
                    ?? now.advanced(by: heartbeat)
                let sleeper = Task { try await time.sleep(until: wakeAt) }
                waiting.sleeper = sleeper
                waiting.wakeAt = wakeAt
                return (due, sleeper)
            }
            guard let step else { return }
            for key in step.due { queue.add(key) }
            await withTaskCancellationHandler {
                _ = await step.sleeper.result
            } onCancel: {
                step.sleeper.cancel()
            }
        }
    }

    /// Stops the delay task and shuts the queue down; keys still waiting for their delay are dropped.
    public func shutDown() {
        let sleeper = waiting.withLockedValue { waiting in
            waiting.stopped = true
            waiting.deadlines = [:]
            waiting.heap = DeadlineHeap()
            return waiting.sleeper
        }
        sleeper?.cancel()
        loop.cancel()
        queue.shutDown()
    }

    /// Shuts down, then returns once every key handed to a worker is done.
    public func shutDownWithDrain() async {
        shutDown()
        await queue.shutDownWithDrain()
    }

    /// Keys whose delay has not passed yet.
    public var waitingCount: Int { waiting.withLockedValue { $0.deadlines.count } }

    /// Adds `key` now; see `WorkQueue.add(_:)`.
    public func add(_ key: Key) { queue.add(key) }
    /// See `WorkQueue.get()`.
    public func get() async -> Key? { await queue.get() }
    /// See `WorkQueue.done(_:)`.
    public func done(_ key: Key) { queue.done(key) }
    /// Keys ready to be taken.
    public var count: Int { queue.count }
    /// See `WorkQueue.metrics`.
    public var metrics: WorkQueueMetrics { queue.metrics }
}

/// A binary min-heap of (deadline, key); ties keep insertion order, so keys due together are added in order.
struct DeadlineHeap<Key> {
    struct Entry {
        var deadline: ContinuousClock.Instant
        var sequence: UInt64
        var key: Key

        func precedes(_ other: Entry) -> Bool {
            deadline < other.deadline || (deadline == other.deadline && sequence < other.sequence)
        }
    }

    private var entries: [Entry] = []
    private var nextSequence: UInt64 = 0

    var first: Entry? { entries.first }
    var count: Int { entries.count }

    mutating func insert(deadline: ContinuousClock.Instant, key: Key) {
        entries.append(Entry(deadline: deadline, sequence: nextSequence, key: key))
        nextSequence += 1
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].precedes(entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func removeFirst() {
        guard !entries.isEmpty else { return }
        entries.swapAt(0, entries.count - 1)
        entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count, entries[left].precedes(entries[smallest]) { smallest = left }
            if right < entries.count, entries[right].precedes(entries[smallest]) { smallest = right }
            guard smallest != parent else { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

extension DeadlineHeap: Sendable where Key: Sendable {}
extension DeadlineHeap.Entry: Sendable where Key: Sendable {}

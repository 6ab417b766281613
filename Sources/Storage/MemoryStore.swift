/// An in-memory `KeyValueStore` with etcd's semantics (history, watches, leases, compaction),
/// for tests and single-process use. Thread-safe; every call runs synchronously under one lock,
/// which is faster than an actor hop for operations this short.
///
/// History grows until `compact(revision:)` is called, as in etcd.
public final class MemoryStore: KeyValueStore, LeaseExpiring, @unchecked Sendable {
    private let state = Locked(MemoryState())
    private let hub = WatchHub(revision: 0)
    private let now: @Sendable () -> ContinuousClock.Instant
    private let leaseCheckInterval: Duration

    /// `now` and `leaseCheckInterval` drive lease expiry; tests may inject a clock and call
    /// `expireDueLeases()` themselves.
    public init(
        leaseCheckInterval: Duration = .milliseconds(100),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.now = now
        self.leaseCheckInterval = leaseCheckInterval
    }

    deinit {
        state.withLock { $0.leases.timer?.cancel() }
        hub.close(with: .unavailable("store closed"))
    }

    /// Ends every watch with `.unavailable`, stops lease expiry and refuses further calls.
    public func close() {
        state.withLock { state in
            state.closed = true
            state.leases.timer?.cancel()
            state.leases.timer = nil
            state.current = [:]
            state.sortedKeys = []
            state.log = []
        }
        hub.close(with: .unavailable("store closed"))
    }

    /// Runs a write under the lock and publishes its events before releasing it, so watchers
    /// receive events in revision order.
    private func write<T>(_ body: (inout MemoryState) throws(StorageError) -> (T, [WatchEvent])) throws -> T {
        try state.withLock { state in
            try state.checkOpen()
            let (result, events) = try body(&state)
            hub.publish(events)
            return result
        }
    }

    public func currentRevision() async throws -> Revision {
        try state.withLock { state in
            try state.checkOpen()
            return state.revision
        }
    }

    public func requestProgress() async -> Bool {
        hub.requestProgress()
        return true
    }

    public func create(key: String, value: [UInt8], lease: LeaseID) async throws -> KeyValue {
        try write { (state: inout MemoryState) throws(StorageError) in
            let storeKey = StoreKey(key)
            if state.current[storeKey] != nil { throw .keyExists(key: key) }
            guard state.leases.exists(lease) else { throw .leaseNotFound(lease) }
            let event = state.put(storeKey, value: value, lease: lease, previous: nil)
            return (event.current, [event])
        }
    }

    public func update(key: String, value: [UInt8], expectedRevision: Revision?, lease: LeaseID) async throws
        -> KeyValue
    {
        try write { (state: inout MemoryState) throws(StorageError) in
            let storeKey = StoreKey(key)
            guard let previous = state.current[storeKey] else { throw .keyNotFound(key: key) }
            if let expectedRevision, expectedRevision != previous.modRevision { throw .conflict(current: previous) }
            guard state.leases.exists(lease) else { throw .leaseNotFound(lease) }
            let event = state.put(storeKey, value: value, lease: lease, previous: previous)
            return (event.current, [event])
        }
    }

    public func delete(key: String, expectedRevision: Revision?) async throws -> (deleted: KeyValue, revision: Revision)
    {
        try write { (state: inout MemoryState) throws(StorageError) in
            let storeKey = StoreKey(key)
            guard let previous = state.current[storeKey] else { throw .keyNotFound(key: key) }
            if let expectedRevision, expectedRevision != previous.modRevision { throw .conflict(current: previous) }
            let event = state.remove(storeKey, previous: previous)
            return ((previous, event.revision), [event])
        }
    }

    public func get(key: String) async throws -> KeyValue? {
        try state.withLock { state in
            try state.checkOpen()
            return state.current[StoreKey(key)]
        }
    }

    public func range(start: String, end: String?, limit: Int, revision: Revision?) async throws -> RangeResult {
        try state.withLock { state in
            try state.checkOpen()
            let target = try state.readRevision(revision)
            return state.range(KeyRange(start: start, end: end), limit: limit, at: target)
        }
    }

    public func watch(start: String, end: String?, afterRevision: Revision, progressNotify: Bool)
        -> AsyncThrowingStream<WatchUpdate, any Error>
    {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: WatchUpdate.self, throwing: (any Error).self)
        let range = KeyRange(start: start, end: end)
        // Replay and registration happen under the write lock, so no write can slip between them.
        state.withLock { state in
            if state.closed {
                continuation.finish(throwing: StorageError.unavailable("store closed"))
                return
            }
            if afterRevision < state.compacted {
                continuation.finish(
                    throwing: StorageError.compacted(requested: afterRevision, compactedAt: state.compacted))
                return
            }
            guard
                let (id, _) = hub.register(
                    range: range, after: afterRevision, progressNotify: progressNotify, continuation: continuation)
            else { return }
            for event in state.history(after: afterRevision, in: range) {
                if case .terminated = continuation.yield(.event(event)) {
                    hub.remove(id)
                    return
                }
            }
            hub.activate(id)
        }
        return stream
    }

    public func compact(revision: Revision) async throws {
        try write { (state: inout MemoryState) throws(StorageError) in
            try state.compact(to: revision)
            return ((), [])
        }
    }

    // MARK: Leases

    public func grantLease(ttlSeconds: Int64) async throws -> LeaseID {
        try write { (state: inout MemoryState) throws(StorageError) in
            let id = state.leases.newID()
            state.leases.grant(id: id, ttl: LeaseTable.clampTTL(ttlSeconds), now: now())
            if state.leases.timer == nil { state.leases.timer = LeaseTimer.start(every: leaseCheckInterval, for: self) }
            return (id, [])
        }
    }

    public func keepAlive(lease: LeaseID) async throws {
        try write { (state: inout MemoryState) throws(StorageError) in
            try state.leases.keepAlive(lease, now: now())
            return ((), [])
        }
    }

    public func revokeLease(_ lease: LeaseID) async throws {
        try write { (state: inout MemoryState) throws(StorageError) in
            guard state.leases.entries.removeValue(forKey: lease) != nil else { throw .leaseNotFound(lease) }
            return ((), state.deleteKeys(of: lease))
        }
    }

    /// Expires the leases whose deadline has passed by the injected clock; the timer calls this too.
    public func expireDueLeases() { _ = expireDue(fromTimer: false) }

    func expireLeasesForTimer() async -> Bool { expireDue(fromTimer: true) }

    private func expireDue(fromTimer: Bool) -> Bool {
        let alive = try? write { (state: inout MemoryState) throws(StorageError) in
            var events: [WatchEvent] = []
            for lease in state.leases.takeExpired(now: now()) { events += state.deleteKeys(of: lease) }
            let anyLeft = !state.leases.entries.isEmpty
            // Only the timer itself may forget its handle, or a running timer could escape `close()`.
            if !anyLeft, fromTimer { state.leases.timer = nil }
            return (anyLeft, events)
        }
        return alive ?? false
    }
}

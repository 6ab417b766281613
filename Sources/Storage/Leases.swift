/// A store whose leases a `LeaseTimer` expires.
protocol LeaseExpiring: AnyObject, Sendable {
    /// Deletes the keys of every lease past its deadline; returns false when no lease is left,
    /// after which the timer task ends (the store starts a new one at the next grant).
    func expireLeasesForTimer() async -> Bool
}

/// The periodic task behind lease expiry. It holds its store weakly, so dropping the store ends
/// it at the next tick; stores also cancel it in `close()` and `deinit`.
enum LeaseTimer {
    static func start(every interval: Duration, for target: some LeaseExpiring) -> Task<Void, Never> {
        Task.detached { [weak target] in
            while true {
                do { try await Task.sleep(for: interval) } catch { return }
                guard let store = target else { return }
                guard await store.expireLeasesForTimer() else { return }
            }
        }
    }
}

/// Lease deadlines, kept in memory by both backends. Like etcd after a leader change, a reopened
/// SQLite store gives every persisted lease its full TTL again.
struct LeaseTable {
    struct Entry {
        var ttl: Int64
        var deadline: ContinuousClock.Instant
    }

    var entries: [LeaseID: Entry] = [:]
    var timer: Task<Void, Never>?

    /// Random like etcd's IDs, so an ID is not reused after a restart by a different lease.
    func newID() -> LeaseID {
        while true {
            let id = LeaseID.random(in: 1...LeaseID.max)
            if entries[id] == nil { return id }
        }
    }

    static func clampTTL(_ ttl: Int64) -> Int64 { max(ttl, 1) }

    mutating func grant(id: LeaseID, ttl: Int64, now: ContinuousClock.Instant) {
        entries[id] = Entry(ttl: ttl, deadline: now + .seconds(ttl))
    }

    mutating func keepAlive(_ id: LeaseID, now: ContinuousClock.Instant) throws(StorageError) {
        guard let entry = entries[id] else { throw .leaseNotFound(id) }
        entries[id]?.deadline = now + .seconds(entry.ttl)
    }

    /// Removes and returns the leases past their deadline, in ID order for deterministic deletes.
    mutating func takeExpired(now: ContinuousClock.Instant) -> [LeaseID] {
        let due = entries.filter { $0.value.deadline <= now }.map(\.key).sorted()
        for id in due { entries[id] = nil }
        return due
    }

    func exists(_ id: LeaseID) -> Bool { id == 0 || entries[id] != nil }
}

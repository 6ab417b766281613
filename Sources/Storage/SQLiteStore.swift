import Foundation
import GRDB

/// How hard SQLite works before a write is acknowledged.
public enum SQLiteDurability: Sendable {
    /// WAL with `synchronous=NORMAL` (the default): a commit is in the WAL file, that is in the
    /// kernel's page cache, before it is acknowledged, so it survives kill -9 of the process, which
    /// is the failure we must tolerate; only an OS crash or power loss may drop the last commits.
    /// Commits cost no fsync (checkpoints do), which is what allows thousands of writes per second.
    case processCrash
    /// WAL with `synchronous=FULL`: the WAL is fsynced at every commit; survives power loss at the
    /// cost of one fsync per write.
    case powerLoss
}

/// The embedded `KeyValueStore`: SQLite through GRDB in WAL mode. Writes are serialized on the
/// pool's writer connection and fan out to in-process watchers after commit, before the next
/// write starts; reads run on reader connections in parallel. Thread-safe.
public final class SQLiteStore: KeyValueStore, LeaseExpiring, @unchecked Sendable {
    struct State {
        /// The last committed revision; only written from the writer connection's queue.
        var revision: Revision
        var compacted: Revision
        var leases = LeaseTable()
        var closed = false
        /// Every live key's current value, by the key's UTF-8 bytes (Swift's String equality would merge
        /// canonically equal keys, which etcd keeps apart). Point reads are answered from here: the commit
        /// path keeps it exact before any write is acknowledged, and a GET then costs no hop to a reader.
        var current: [[UInt8]: KeyValue] = [:]
    }

    /// What a write transaction produced; applied to `state` only once the commit succeeded.
    struct WriteContext {
        var revision: Revision
        let compacted: Revision
        var events: [WatchEvent] = []
        /// This batch's latest change to each key it wrote, by the key's UTF-8 bytes as `State.current`.
        var changed: [[UInt8]: WatchEvent] = [:]
        var afterCommit: [(inout State) -> Void] = []

        mutating func record(_ event: WatchEvent) {
            events.append(event)
            changed[Array(event.current.key.utf8)] = event
        }
    }

    let pool: DatabasePool
    let hub: WatchHub
    let state: Locked<State>
    let pending = Locked(PendingWrites())
    let now: @Sendable () -> ContinuousClock.Instant
    let leaseCheckInterval: Duration

    /// Opens (creating it and its directory if needed) the database at `path`. The revision
    /// counter continues from the last write, and persisted leases get their full TTL again.
    public init(
        path: String, durability: SQLiteDurability = .processCrash, leaseCheckInterval: Duration = .milliseconds(100),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        let synchronous = durability == .powerLoss ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = \(synchronous)") }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try pool.write { db in try SQLiteSchema.migrate(db) }
            let (revisions, leases, current) = try pool.read { db in
                let revisions = try Self.revisions(db)
                let leases = try Row.fetchAll(db, sql: "SELECT id, ttl FROM leases").map {
                    (id: $0[0] as LeaseID, ttl: $0[1] as Int64)
                }
                var current: [[UInt8]: KeyValue] = [:]
                let rows = try Row.fetchCursor(db, sql: SQL.currentAll)
                while let row = try rows.next() {
                    let value = try row.keyValue()
                    current[Array(value.key.utf8)] = value
                }
                return (revisions, leases, current)
            }
            var initial = State(revision: revisions.current, compacted: revisions.compacted)
            initial.current = current
            let start = now()
            for lease in leases { initial.leases.grant(id: lease.id, ttl: lease.ttl, now: start) }
            state = Locked(initial)
            hub = WatchHub(revision: revisions.current)
        } catch { throw Self.storageError(error) }
        self.now = now
        self.leaseCheckInterval = leaseCheckInterval
        state.withLock { state in
            if !state.leases.entries.isEmpty {
                state.leases.timer = LeaseTimer.start(every: leaseCheckInterval, for: self)
            }
        }
    }

    deinit {
        state.withLock { $0.leases.timer?.cancel() }
        hub.close(with: .unavailable("store closed"))
    }

    /// Ends every watch with `.unavailable`, stops lease expiry and closes the database; later calls
    /// fail with `.unavailable`.
    public func close() throws {
        let wasOpen = state.withLock { state in
            defer {
                state.closed = true
                state.leases.timer?.cancel()
                state.leases.timer = nil
            }
            return !state.closed
        }
        guard wasOpen else { return }
        hub.close(with: .unavailable("store closed"))
        do { try pool.close() } catch { throw Self.storageError(error) }
    }

    static func storageError(_ error: any Error) -> any Error {
        if error is StorageError || error is CancellationError { return error }
        return StorageError.unavailable("sqlite: \(error)")
    }

    static func revisions(_ db: Database) throws -> (current: Revision, compacted: Revision) {
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: SQL.revisions))
        guard let row = try cursor.next() else { return (0, 0) }
        return (row[0], row[1])
    }

    /// Runs `body` on a reader connection in one read transaction (a consistent snapshot).
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        if state.withLock({ $0.closed }) { throw StorageError.unavailable("store closed") }
        do { return try await pool.read(body) } catch { throw Self.storageError(error) }
    }
}

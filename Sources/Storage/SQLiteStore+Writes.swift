import Foundation
import GRDB

extension SQLiteStore {
    public func create(key: String, value: [UInt8], lease: LeaseID) async throws -> KeyValue {
        try await write { db, context in
            // Without a lease to check, claiming the key is the existence check: one statement, not a read first.
            if lease == 0 {
                guard let created = try Self.insertNew(db, &context, key: key, value: value) else {
                    throw StorageError.keyExists(key: key)
                }
                return created
            }
            if self.existing(context, key: key) != nil { throw StorageError.keyExists(key: key) }
            try Self.checkLease(db, lease)
            return try Self.put(db, &context, key: key, value: value, lease: lease, previous: nil).current
        }
    }

    public func update(key: String, value: [UInt8], expectedRevision: Revision?, lease: LeaseID) async throws
        -> KeyValue
    {
        try await write { db, context in
            guard let previous = self.existing(context, key: key) else { throw StorageError.keyNotFound(key: key) }
            if let expectedRevision, expectedRevision != previous.modRevision {
                throw StorageError.conflict(current: previous)
            }
            try Self.checkLease(db, lease)
            return try Self.put(db, &context, key: key, value: value, lease: lease, previous: previous).current
        }
    }

    public func delete(key: String, expectedRevision: Revision?) async throws -> (deleted: KeyValue, revision: Revision)
    {
        let (deleted, revision) = try await write { db, context in
            guard let previous = self.existing(context, key: key) else { throw StorageError.keyNotFound(key: key) }
            if let expectedRevision, expectedRevision != previous.modRevision {
                throw StorageError.conflict(current: previous)
            }
            return (previous, try Self.remove(db, &context, previous: previous).revision)
        }
        return (deleted, revision)
    }

    public func compact(revision target: Revision) async throws {
        try await write { db, context in
            if target > context.revision {
                throw StorageError.futureRevision(requested: target, current: context.revision)
            }
            let previous = context.compacted
            if target <= previous { throw StorageError.compacted(requested: target, compactedAt: previous) }
            try db.cachedStatement(sql: SQL.compactSuperseded).execute(arguments: [previous, target])
            try db.cachedStatement(sql: SQL.compactTombstones).execute(arguments: [previous, target])
            try db.cachedStatement(sql: SQL.setCompacted).execute(arguments: [target])
            context.afterCommit.append { $0.compacted = target }
        }
    }

    // MARK: Leases

    public func grantLease(ttlSeconds: Int64) async throws -> LeaseID {
        let ttl = LeaseTable.clampTTL(ttlSeconds)
        return try await write { db, context in
            let id = self.state.withLock { $0.leases.newID() }
            try db.cachedStatement(sql: SQL.insertLease).execute(arguments: [id, ttl])
            let granted = self.now()
            context.afterCommit.append { state in
                state.leases.grant(id: id, ttl: ttl, now: granted)
                if state.leases.timer == nil {
                    state.leases.timer = LeaseTimer.start(every: self.leaseCheckInterval, for: self)
                }
            }
            return id
        }
    }

    public func keepAlive(lease: LeaseID) async throws {
        let now = self.now()
        try state.withLock { state in
            if state.closed { throw StorageError.unavailable("store closed") }
            try state.leases.keepAlive(lease, now: now)
        }
    }

    public func revokeLease(_ lease: LeaseID) async throws {
        // Lease 0 means "no lease": revoking it must not delete every key without one.
        if lease == 0 { throw StorageError.leaseNotFound(lease) }
        try await write { db, context in
            try Self.checkLease(db, lease)
            try Self.dropLease(db, &context, lease)
        }
    }

    /// Expires the leases whose deadline has passed by the injected clock; the timer calls this too.
    public func expireDueLeases() async throws { _ = try await expireDue(fromTimer: false) }

    func expireLeasesForTimer() async -> Bool { (try? await expireDue(fromTimer: true)) ?? false }

    private func expireDue(fromTimer: Bool) async throws -> Bool {
        let now = self.now()
        return try await write { db, context in
            let (due, remaining) = self.state.withLock { state in
                let due = state.leases.entries.filter { $0.value.deadline <= now }.map(\.key).sorted()
                return (due, state.leases.entries.count - due.count)
            }
            for lease in due { try Self.dropLease(db, &context, lease) }
            if remaining == 0, fromTimer {
                // Only the timer may forget its own handle, or a running timer would escape `close()`.
                context.afterCommit.append { state in if state.leases.entries.isEmpty { state.leases.timer = nil } }
            }
            return remaining > 0
        }
    }

    /// Asks the database rather than the in-memory deadlines so that a lease granted or revoked
    /// earlier in the same group-commit batch is seen as such.
    static func checkLease(_ db: Database, _ lease: LeaseID) throws {
        if lease == 0 { return }
        let known = try Row.fetchCursor(db.cachedStatement(sql: SQL.leaseExists), arguments: [lease]).next() != nil
        if !known { throw StorageError.leaseNotFound(lease) }
    }

    // MARK: Row helpers (writer connection only)

    /// The key's value as this write sees it: the batch's own latest change to it, else the committed state,
    /// which memory holds exactly (the commit path updates it), so no read of the database is needed.
    func existing(_ context: WriteContext, key: String) -> KeyValue? {
        let bytes = Array(key.utf8)
        if let event = context.changed[bytes] { return event.kind == .put ? event.current : nil }
        return state.withLock { $0.current[bytes] }
    }

    @discardableResult static func put(
        _ db: Database, _ context: inout WriteContext, key: String, value: [UInt8], lease: LeaseID, previous: KeyValue?
    ) throws -> WatchEvent {
        let revision = context.revision + 1
        let storedKey = StoredKey.encode(key)
        let createRevision = previous?.createRevision ?? revision
        try db.cachedStatement(sql: SQL.insertLog).execute(arguments: [
            revision, storedKey, Data(value), createRevision, lease, false, previous?.modRevision ?? 0,
        ])
        if previous == nil {
            try db.cachedStatement(sql: SQL.insertCurrent).execute(arguments: [
                storedKey, revision, createRevision, lease,
            ])
        } else {
            try db.cachedStatement(sql: SQL.updateCurrent).execute(arguments: [revision, lease, storedKey])
        }
        let kv = KeyValue(key: key, value: value, createRevision: createRevision, modRevision: revision, lease: lease)
        let event = WatchEvent(kind: .put, current: kv, previous: previous)
        context.revision = revision
        context.record(event)
        return event
    }

    /// A create of a key without a lease: nil, having changed nothing, when the key exists.
    static func insertNew(_ db: Database, _ context: inout WriteContext, key: String, value: [UInt8]) throws
        -> KeyValue?
    {
        let revision = context.revision + 1
        let storedKey = StoredKey.encode(key)
        try db.cachedStatement(sql: SQL.insertCurrentIfAbsent).execute(arguments: [storedKey, revision, revision, 0])
        guard db.changesCount > 0 else { return nil }
        try db.cachedStatement(sql: SQL.insertLog).execute(arguments: [
            revision, storedKey, Data(value), revision, 0, false, 0,
        ])
        let kv = KeyValue(key: key, value: value, createRevision: revision, modRevision: revision, lease: 0)
        context.revision = revision
        context.record(WatchEvent(kind: .put, current: kv, previous: nil))
        return kv
    }

    @discardableResult static func remove(_ db: Database, _ context: inout WriteContext, previous: KeyValue) throws
        -> WatchEvent
    {
        let revision = context.revision + 1
        let storedKey = StoredKey.encode(previous.key)
        try db.cachedStatement(sql: SQL.insertLog).execute(arguments: [
            revision, storedKey, nil, 0, 0, true, previous.modRevision,
        ])
        try db.cachedStatement(sql: SQL.deleteCurrent).execute(arguments: [storedKey])
        let tombstone = KeyValue(key: previous.key, value: [], createRevision: 0, modRevision: revision)
        let event = WatchEvent(kind: .delete, current: tombstone, previous: previous)
        context.revision = revision
        context.record(event)
        return event
    }

    /// Deletes the lease's keys (one revision each, in key order) and the lease itself.
    static func dropLease(_ db: Database, _ context: inout WriteContext, _ lease: LeaseID) throws {
        let attached = try Row.fetchAll(db.cachedStatement(sql: SQL.currentByLease), arguments: [lease]).map {
            try $0.keyValue()
        }
        for kv in attached { try remove(db, &context, previous: kv) }
        try db.cachedStatement(sql: SQL.deleteLease).execute(arguments: [lease])
        context.afterCommit.append { $0.leases.entries[lease] = nil }
    }
}

import Foundation
import GRDB

extension SQLiteStore {
    /// Served from memory: the counter is updated right after each commit, so it is as fresh as a
    /// read transaction would be.
    public func currentRevision() async throws -> Revision {
        try state.withLock { state in
            if state.closed { throw StorageError.unavailable("store closed") }
            return state.revision
        }
    }

    public func requestProgress() async -> Bool {
        hub.requestProgress()
        return true
    }

    public func get(key: String) async throws -> KeyValue? {
        try state.withLock { state in
            if state.closed { throw StorageError.unavailable("store closed") }
            return state.current[Array(key.utf8)]
        }
    }

    public func range(start: String, end: String?, limit: Int, revision: Revision?) async throws -> RangeResult {
        let range = KeyRange(start: start, end: end)
        return try await read { db in
            let revisions = try Self.revisions(db)
            var target = revisions.current
            if let revision, revision > 0 {
                if revision > revisions.current {
                    throw StorageError.futureRevision(requested: revision, current: revisions.current)
                }
                if revision < revisions.compacted {
                    throw StorageError.compacted(requested: revision, compactedAt: revisions.compacted)
                }
                target = revision
            }
            let sql: String
            var arguments: StatementArguments
            if target == revisions.current {
                let condition = SQL.keyCondition(range, column: "c.key")
                (sql, arguments) = (SQL.currentRange(condition.sql), condition.arguments)
            } else {
                let condition = SQL.keyCondition(range, column: "key")
                (sql, arguments) = (SQL.pastRange(condition.sql), condition.arguments + [target])
            }
            // One extra row tells whether the limit cut the result.
            arguments += [limit > 0 ? limit + 1 : -1]
            let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
            var items: [KeyValue] = []
            var more = false
            while let row = try cursor.next() {
                if limit > 0, items.count == limit {
                    more = true
                    break
                }
                items.append(try row.keyValue())
            }
            return RangeResult(items: items, more: more, revision: target)
        }
    }

    public func watch(start: String, end: String?, afterRevision: Revision, progressNotify: Bool)
        -> AsyncThrowingStream<WatchUpdate, any Error>
    {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: WatchUpdate.self, throwing: (any Error).self)
        let range = KeyRange(start: start, end: end)
        guard
            let (id, liveFrom) = hub.register(
                range: range, after: afterRevision, progressNotify: progressNotify, continuation: continuation)
        else { return stream }
        if afterRevision >= liveFrom {
            hub.activate(id)
            return stream
        }
        // History up to `liveFrom` is committed (events are published after commit), so a read
        // transaction started now sees all of it; later events wait in the hub's buffer.
        Task {
            do {
                let completed = try await self.read { db in
                    try Self.replay(db, range: range, after: afterRevision, through: liveFrom, into: continuation)
                }
                if completed { self.hub.activate(id) }
            } catch {
                self.hub.remove(id)
                continuation.finish(throwing: Self.storageError(error))
            }
        }
        return stream
    }

    /// Yields the logged events in `(after, through]` within `range`; false when the consumer left.
    private static func replay(
        _ db: Database, range: KeyRange, after: Revision, through: Revision, into continuation: WatchHub.Continuation
    ) throws -> Bool {
        let compacted = try revisions(db).compacted
        if after < compacted { throw StorageError.compacted(requested: after, compactedAt: compacted) }
        let (condition, keyArguments) = SQL.keyCondition(range, column: "l.key")
        let arguments: StatementArguments = [after, through] + keyArguments
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: SQL.history(condition)), arguments: arguments)
        while let row = try cursor.next() {
            var previous: KeyValue?
            if let prevRevision = row[8] as Revision?, !(row[10] as Bool) {
                previous = KeyValue(
                    key: try row.storedKey(at: 0), value: try row.blob(at: 6), createRevision: row[7],
                    modRevision: prevRevision, lease: row[9])
            }
            let event: WatchEvent
            if row[5] as Bool {
                let tombstone = KeyValue(
                    key: try row.storedKey(at: 0), value: [], createRevision: 0, modRevision: row[3])
                event = WatchEvent(kind: .delete, current: tombstone, previous: previous)
            } else {
                event = WatchEvent(kind: .put, current: try row.keyValue(), previous: previous)
            }
            if case .terminated = continuation.yield(.event(event)) { return false }
        }
        return true
    }
}

import Foundation
import GRDB

/// The SQLite layout. `log` is the MVCC history: one row per revision, plus, after compaction, the
/// newest row at or below the compacted revision of every key still alive, so the state at any
/// revision not compacted is "each key's newest log row at or below it". `current` indexes the
/// newest row of each live key; values are stored once, in `log` (small `current` rows keep its
/// WITHOUT ROWID b-tree dense). Keys are stored as `StoredKey` blobs.
enum SQLiteSchema {
    static let version = 1

    static func migrate(_ db: Database) throws {
        let existing = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        if existing == version { return }
        if existing > version {
            throw StorageError.unavailable(
                "database schema \(existing) is newer than this build understands (\(version))")
        }
        try db.execute(
            sql: """
                CREATE TABLE log (
                    rev INTEGER PRIMARY KEY,
                    key BLOB NOT NULL,
                    value BLOB,
                    create_rev INTEGER NOT NULL,
                    lease INTEGER NOT NULL,
                    deleted INTEGER NOT NULL,
                    prev_rev INTEGER NOT NULL
                );
                CREATE INDEX log_key_rev ON log(key, rev);
                CREATE TABLE current (
                    key BLOB PRIMARY KEY NOT NULL,
                    rev INTEGER NOT NULL,
                    create_rev INTEGER NOT NULL,
                    lease INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX current_lease ON current(lease) WHERE lease <> 0;
                CREATE TABLE meta (name TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE leases (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL);
                PRAGMA user_version = \(version);
                """)
    }
}

/// SQL text; statements are prepared once per connection through `cachedStatement`.
enum SQL {
    /// `max(log)` is the last write unless compaction removed it (every key deleted, then
    /// compacted), in which case the compacted revision is the current one.
    static let revisions = """
        SELECT max(IFNULL((SELECT max(rev) FROM log), 0), IFNULL((SELECT value FROM meta WHERE name = 'compacted'), 0)),
               IFNULL((SELECT value FROM meta WHERE name = 'compacted'), 0)
        """
    static let currentAll = """
        SELECT c.key, l.value, c.create_rev, c.rev, c.lease
        FROM current AS c CROSS JOIN log AS l ON l.rev = c.rev
        """
    static let currentByLease = """
        SELECT c.key, l.value, c.create_rev, c.rev, c.lease
        FROM current AS c CROSS JOIN log AS l ON l.rev = c.rev WHERE c.lease = ? ORDER BY c.key
        """
    static let insertLog =
        "INSERT INTO log (rev, key, value, create_rev, lease, deleted, prev_rev) VALUES (?, ?, ?, ?, ?, ?, ?)"
    static let insertCurrent = "INSERT INTO current (key, rev, create_rev, lease) VALUES (?, ?, ?, ?)"
    /// Changes nothing (`changes()` is 0) when the key exists.
    static let insertCurrentIfAbsent =
        "INSERT OR IGNORE INTO current (key, rev, create_rev, lease) VALUES (?, ?, ?, ?)"
    static let updateCurrent = "UPDATE current SET rev = ?, lease = ? WHERE key = ?"
    static let deleteCurrent = "DELETE FROM current WHERE key = ?"
    static let setCompacted = "INSERT OR REPLACE INTO meta (name, value) VALUES ('compacted', ?)"
    /// Rows superseded by a newer row at or below the target; only rows newer than the previous
    /// compaction can supersede anything not already removed.
    static let compactSuperseded = """
        DELETE FROM log WHERE rev IN (
            SELECT old.rev FROM log AS new JOIN log AS old ON old.key = new.key AND old.rev < new.rev
            WHERE new.rev > ?1 AND new.rev <= ?2)
        """
    static let compactTombstones = "DELETE FROM log WHERE rev > ? AND rev <= ? AND deleted = 1"
    static let leaseExists = "SELECT 1 FROM leases WHERE id = ?"
    static let insertLease = "INSERT INTO leases (id, ttl) VALUES (?, ?)"
    static let deleteLease = "DELETE FROM leases WHERE id = ?"

    /// The key condition for a range, with its arguments.
    static func keyCondition(_ range: KeyRange, column: String) -> (sql: String, arguments: StatementArguments) {
        switch range.upper {
        case .single: return ("\(column) = ?", [StoredKey.encode(range.start)])
        case .unbounded: return ("\(column) >= ?", [StoredKey.encode(range.start)])
        case .before(let end):
            return ("\(column) >= ? AND \(column) < ?", [StoredKey.encode(range.start), StoredKey.encode(end)])
        }
    }

    static func currentRange(_ condition: String) -> String {
        """
        SELECT c.key, l.value, c.create_rev, c.rev, c.lease
        FROM current AS c CROSS JOIN log AS l ON l.rev = c.rev
        WHERE \(condition) ORDER BY c.key LIMIT ?
        """
    }

    /// SQLite takes the bare columns of a `max()` aggregate from the row holding the maximum.
    static func pastRange(_ condition: String) -> String {
        """
        SELECT key, value, create_rev, mod_rev, lease FROM (
            SELECT key, value, create_rev, max(rev) AS mod_rev, lease, deleted FROM log
            WHERE \(condition) AND rev <= ? GROUP BY key)
        WHERE deleted = 0 ORDER BY key LIMIT ?
        """
    }

    static func history(_ condition: String) -> String {
        """
        SELECT l.key, l.value, l.create_rev, l.rev, l.lease, l.deleted, p.value, p.create_rev, p.rev, p.lease, p.deleted
        FROM log AS l LEFT JOIN log AS p ON p.rev = l.prev_rev
        WHERE l.rev > ? AND l.rev <= ? AND \(condition) ORDER BY l.rev
        """
    }
}

extension Row {
    /// Reads `key, value, create_rev, rev, lease` starting at column `offset`.
    func keyValue(at offset: Int = 0) throws -> KeyValue {
        KeyValue(
            key: try storedKey(at: offset), value: try blob(at: offset + 1), createRevision: self[offset + 2],
            modRevision: self[offset + 3], lease: self[offset + 4])
    }

    func storedKey(at index: Int) throws -> String {
        try withUnsafeData(atIndex: index) { StoredKey.decode($0 ?? Data()) }
    }

    /// SQLite may hand back an empty blob as NULL, hence the fallback.
    func blob(at index: Int) throws -> [UInt8] {
        try withUnsafeData(atIndex: index) { data in data.map { [UInt8]($0) } ?? [] }
    }
}

/// How keys are stored: a marker byte, then the key's UTF-8 bytes, as a BLOB. GRDB binds and reads
/// TEXT as NUL-terminated C strings, which would cut keys like etcd's "next key" idiom `key + "\0"`;
/// GRDB binds an empty blob as NULL, which the marker byte avoids (so "" works as a range start).
/// A constant first byte keeps memcmp order, which is the order SQLite compares blobs in.
enum StoredKey {
    static let marker = UInt8(ascii: ":")

    static func encode(_ key: String) -> Data {
        var data = Data(capacity: key.utf8.count + 1)
        data.append(marker)
        data.append(contentsOf: key.utf8)
        return data
    }

    static func decode(_ data: Data) -> String { String(decoding: data.dropFirst(), as: UTF8.self) }
}

/// A storage revision: etcd's global counter that increases by one per write.
public typealias Revision = Int64

/// A lease identifier; 0 means "no lease", as in etcd.
public typealias LeaseID = Int64

/// One key's value at some revision, with etcd's bookkeeping.
public struct KeyValue: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]
    /// The revision at which the key was (last) created.
    public var createRevision: Revision
    /// The revision of the last write to the key.
    public var modRevision: Revision
    public var lease: LeaseID

    public init(key: String, value: [UInt8], createRevision: Revision, modRevision: Revision, lease: LeaseID = 0) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.lease = lease
    }
}

/// A change seen by a watch; `previous` is the value before the change when known.
public struct WatchEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case put
        case delete
    }
    public var kind: Kind
    /// For a put, the new value; for a delete, the key with an empty value and the delete's revision as modRevision.
    public var current: KeyValue
    public var previous: KeyValue?

    public init(kind: Kind, current: KeyValue, previous: KeyValue?) {
        self.kind = kind
        self.current = current
        self.previous = previous
    }

    public var revision: Revision { current.modRevision }
}

/// What a watch stream carries: changes, and, for a watch that asked for them, progress notifications.
public enum WatchUpdate: Sendable, Hashable {
    case event(WatchEvent)
    /// Every change in the watched range up to this revision has been delivered (etcd's `progress_notify`),
    /// so a watch resumed after it misses nothing. Sent to a watch that had no events for a while.
    case progress(Revision)
}

/// The answer to a range read.
public struct RangeResult: Sendable {
    public var items: [KeyValue]
    /// True when `limit` cut the result short.
    public var more: Bool
    /// The revision the read was served at (the store's current revision unless one was asked for).
    public var revision: Revision

    public init(items: [KeyValue], more: Bool, revision: Revision) {
        self.items = items
        self.more = more
        self.revision = revision
    }
}

/// Errors with etcd's meanings; callers map them to API statuses.
public enum StorageError: Error, Sendable, Equatable {
    /// Create of a key that exists.
    case keyExists(key: String)
    /// Update or delete of a key that does not exist.
    case keyNotFound(key: String)
    /// Update or delete whose expected revision is not the key's current one; carries the current value.
    case conflict(current: KeyValue)
    /// A read or watch at a revision older than the last compaction.
    case compacted(requested: Revision, compactedAt: Revision)
    /// A read at a revision newer than the store's current one.
    case futureRevision(requested: Revision, current: Revision)
    case leaseNotFound(LeaseID)
    /// The backend failed (I/O, connection); the write may not have been applied.
    case unavailable(String)
}

/// A revisioned key-value store with etcd v3's semantics: every write gets the next global revision,
/// reads can be served at a past revision until it is compacted, and watches replay from a revision
/// with no gaps. Keys are compared bytewise (UTF-8), as in etcd, not by Swift's `String` equality.
///
/// Key ranges follow etcd: `end` nil (or "") means the single key `start`; `end` "\0" means every
/// key from `start` on; otherwise `[start, end)` (see `prefixEnd`). Implementations are thread-safe.
public protocol KeyValueStore: Sendable {
    /// The revision of the latest write (0 for an empty, never-written store).
    func currentRevision() async throws -> Revision

    /// Asks for a progress notification on every watch that wanted them, ordered after every event up to
    /// the revision it names (etcd's `WatchProgressRequest`), so a cache learns at once that it has seen
    /// a quiet range up to a revision. False when the store cannot promise that ordering; callers then
    /// read storage instead of waiting for the periodic notifications.
    func requestProgress() async -> Bool

    /// Creates `key`; fails with `.keyExists` when it is present. Returns the new KeyValue.
    func create(key: String, value: [UInt8], lease: LeaseID) async throws -> KeyValue

    /// Replaces `key` if its modRevision equals `expectedRevision` (nil: unconditionally, but it must exist).
    /// The key's lease becomes `lease` (0: none). Fails with `.keyNotFound` or `.conflict`.
    func update(key: String, value: [UInt8], expectedRevision: Revision?, lease: LeaseID) async throws -> KeyValue

    /// Deletes `key` if its modRevision equals `expectedRevision` (nil: unconditionally).
    /// Returns the deleted value (as it was before the delete) and the revision of the delete.
    func delete(key: String, expectedRevision: Revision?) async throws -> (deleted: KeyValue, revision: Revision)

    /// Reads one key at the current revision.
    func get(key: String) async throws -> KeyValue?

    /// Reads keys in the range in key order, at `revision` (nil or 0: current), at most `limit` items
    /// (0: no limit). Fails with `.compacted` below the compacted revision (reading *at* it works)
    /// and with `.futureRevision` above the current one.
    func range(start: String, end: String?, limit: Int, revision: Revision?) async throws -> RangeResult

    /// Streams every change to keys in the range with revision > `afterRevision`, in revision order,
    /// with no gaps and no duplicates: history first, then live changes. `afterRevision` may be in the
    /// future. The stream never finishes normally: it ends when the consumer stops iterating (or
    /// its task is cancelled), with `.compacted` when `afterRevision` is below the compacted revision,
    /// and with `.unavailable` when the store is closed or fails; then watch again from the last
    /// revision seen. Events are buffered without bound for a slow consumer.
    ///
    /// With `progressNotify`, a watch that had no event for a while also gets `.progress` updates, so a
    /// consumer knows how far it has seen a quiet range (etcd sends them at its
    /// `--experimental-watch-progress-notify-interval`, 10 minutes by default; the in-process stores
    /// every `WatchHub.progressInterval`).
    func watch(start: String, end: String?, afterRevision: Revision, progressNotify: Bool)
        -> AsyncThrowingStream<WatchUpdate, any Error>

    /// Grants a lease that expires `ttlSeconds` (at least 1) after the grant or the last keep-alive;
    /// keys attached to it are then deleted as ordinary deletes, one revision per key in key order,
    /// each with its watch event. Backends check deadlines periodically (the in-process ones every
    /// 100 ms by default), so expiry may come that much late; etcd also raises short TTLs.
    func grantLease(ttlSeconds: Int64) async throws -> LeaseID
    /// Restarts the lease's TTL; `.leaseNotFound` once it expired or was revoked.
    func keepAlive(lease: LeaseID) async throws
    /// Deletes the lease's keys now, as expiry would; `.leaseNotFound` for an unknown lease (or 0).
    func revokeLease(_ lease: LeaseID) async throws

    /// Drops history before `revision`: reads below it and watches from below it then fail with
    /// `.compacted`. Like etcd, fails with `.compacted` when `revision` is not above the last
    /// compaction and with `.futureRevision` above the current revision. History grows until compacted.
    func compact(revision: Revision) async throws
}

extension KeyValueStore {
    /// Stores without ordered progress requests say so.
    public func requestProgress() async -> Bool { false }

    /// The changes alone: `watch(start:end:afterRevision:progressNotify:)` without progress notifications.
    public func watch(start: String, end: String?, afterRevision: Revision) -> AsyncCompactMapSequence<
        AsyncThrowingStream<WatchUpdate, any Error>, WatchEvent
    > {
        watch(start: start, end: end, afterRevision: afterRevision, progressNotify: false).compactMap { update in
            if case .event(let event) = update { return event }
            return nil
        }
    }

    /// The exclusive end of the range holding every key that starts with `prefix`, as etcd's clients
    /// compute it; "\0" (every key from the start on) when no such end exists.
    ///
    /// Works on Unicode scalars rather than bytes so the result stays valid UTF-8: raising the last
    /// scalar by one gives, in UTF-8 byte order, the first string after all those with the prefix.
    public static func prefixEnd(_ prefix: String) -> String {
        var scalars = Array(prefix.unicodeScalars)
        while let last = scalars.popLast() {
            var next = last.value + 1
            if next == 0xD800 { next = 0xE000 }  // skip the surrogate block, which has no scalars
            if let scalar = Unicode.Scalar(next) {
                scalars.append(scalar)
                var end = String.UnicodeScalarView()
                end.append(contentsOf: scalars)
                return String(end)
            }
        }
        return "\u{0}"
    }
}

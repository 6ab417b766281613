public import Client
import NIOConcurrencyHelpers

/// Upstream's `ControllerExpectations`: how many creations and deletions a controller has asked for and not
/// yet seen in its informer, per owner. An owner is synced again only once they are all seen (or after
/// `timeout`, when a watch event was lost), so a slow watch never makes it create or delete twice.
public final class ControllerExpectations: Sendable {
    /// Upstream's `ExpectationsTimeout`.
    public static let defaultTimeout: Duration = .seconds(300)

    private struct Record {
        var adds: Int
        var deletes: Int
        var setAt: ContinuousClock.Instant
        /// UIDs whose deletion is awaited, so a deletion observed twice counts once.
        var deletingUIDs: Set<String> = []
    }

    private let records = NIOLockedValueBox<[ObjectKey: Record]>([:])
    private let time: any TimeSource
    private let timeout: Duration

    public init(time: any TimeSource = SystemTime(), timeout: Duration = defaultTimeout) {
        self.time = time
        self.timeout = timeout
    }

    /// Whether `owner` may be synced: nothing is awaited, or the wait timed out, or no record exists.
    public func satisfied(_ owner: ObjectKey) -> Bool {
        let now = time.now
        return records.withLockedValue { records in
            guard let record = records[owner] else { return true }
            if record.adds <= 0 && record.deletes <= 0 { return true }
            return record.setAt.duration(to: now) > timeout
        }
    }

    /// Records that `adds` creations and the deletion of `deleting` are about to be requested for `owner`.
    public func expect(_ owner: ObjectKey, adds: Int = 0, deleting: [String] = []) {
        let now = time.now
        records.withLockedValue {
            $0[owner] = Record(adds: adds, deletes: deleting.count, setAt: now, deletingUIDs: Set(deleting))
        }
    }

    /// A creation was seen in the informer (or a create request failed, so it will never be).
    public func creationObserved(_ owner: ObjectKey) {
        records.withLockedValue { $0[owner]?.adds -= 1 }
    }

    /// The deletion of the object with `uid` was seen (or its delete request failed).
    public func deletionObserved(_ owner: ObjectKey, uid: String) {
        records.withLockedValue { records in
            guard records[owner]?.deletingUIDs.remove(uid) != nil else { return }
            records[owner]?.deletes -= 1
        }
    }

    /// Forgets `owner`, when it is deleted.
    public func delete(_ owner: ObjectKey) {
        _ = records.withLockedValue { $0.removeValue(forKey: owner) }
    }

    /// Creations and deletions still awaited for `owner` (tests and logs).
    public func pending(_ owner: ObjectKey) -> (adds: Int, deletes: Int) {
        records.withLockedValue { ($0[owner]?.adds ?? 0, $0[owner]?.deletes ?? 0) }
    }
}

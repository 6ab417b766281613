import APIMachinery
import NIOConcurrencyHelpers
import Storage

/// Objects this server has just written to one cache's resource, by the revision of the write, so the
/// cache's event for that write takes the object as the registry built it instead of parsing the stored
/// bytes once more. Only an optimisation: an event with no entry (another server's write, or one whose
/// entry came too late) is parsed as before, and the revision and key must both match.
final class WrittenObjects: Sendable {
    private struct Entry {
        let key: String
        let object: JSON
    }

    private let entries = NIOLockedValueBox([Revision: Entry]())
    /// Entries kept before those the watch has already passed are dropped; a write's entry normally
    /// lives only until its event arrives, a few at a time.
    private static let pruneAbove = 64
    /// A bound in case the watch stalls: beyond it new entries are not kept.
    private static let limit = 4_096

    /// Keeps the stored-shape `object` (with its resourceVersion) written at `key` in `revision`.
    func note(key: String, revision: Revision, object: JSON) {
        entries.withLockedValue { entries in
            guard entries.count < Self.limit else { return }
            entries[revision] = Entry(key: key, object: object)
        }
    }

    /// The object written at `key` in `revision`, once; entries of revisions the watch has passed go.
    func take(key: String, revision: Revision) -> JSON? {
        entries.withLockedValue { entries in
            let entry = entries.removeValue(forKey: revision)
            if entries.count > Self.pruneAbove { entries = entries.filter { $0.key > revision } }
            guard let entry, entry.key == key else { return nil }
            return entry.object
        }
    }
}

import APIMachinery
import NIOConcurrencyHelpers
import Storage

/// Objects this server is writing to one cache's resource, by key with the exact bytes written, so the
/// cache's event for that write takes the object as the registry built it instead of parsing the stored
/// bytes once more. Noted before the write, because an in-process store may deliver the event before the
/// write returns. Only an optimisation: an event whose bytes differ (another writer's, a failed write's
/// leftover) is parsed as before.
final class WrittenObjects: Sendable {
    private struct Entry {
        let bytes: [UInt8]
        /// The stored shape, without resourceVersion.
        let object: JSON
    }

    private let entries = NIOLockedValueBox([String: Entry]())
    /// Leftovers of failed writes are forgotten all at once when this many wait.
    private static let limit = 1_024

    /// Keeps the stored-shape `object` about to be written at `key` as `bytes`.
    func note(key: String, bytes: [UInt8], object: JSON) {
        entries.withLockedValue { entries in
            if entries.count >= Self.limit { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(bytes: bytes, object: object)
        }
    }

    /// The object whose bytes `value` holds, with the value's resourceVersion, once; nil when this server
    /// did not just write exactly these bytes there.
    func take(_ value: KeyValue) -> JSON? {
        let entry = entries.withLockedValue { entries -> Entry? in
            guard let entry = entries[value.key], entry.bytes == value.value else { return nil }
            entries[value.key] = nil
            return entry
        }
        guard var object = entry?.object else { return nil }
        object.setMeta("resourceVersion", .string(String(value.modRevision)))
        return object
    }
}

public import Client
import NIOConcurrencyHelpers

/// Upstream's `EndpointSliceTracker`: the version of every slice this controller last wrote, per service, so
/// that a sync never acts on an informer cache that has not yet seen the controller's own writes (which would
/// create a slice twice), and the controller's own writes coming back through the informer do not trigger
/// another sync. Versions are the server's resourceVersions, which this project's server issues in order
/// (upstream uses the slices' generation, which its server bumps on every change).
public final class EndpointSliceTracker: Sendable {
    /// A version meaning "deleted by this controller, not yet seen gone".
    static let deletionExpected: Int64 = -1

    private let versions = NIOLockedValueBox<[ObjectKey: [String: Int64]]>([:])

    public init() {}

    /// Records a slice this controller created or updated, as the server returned it.
    public func written(_ slice: EndpointSlice, service: ObjectKey) {
        guard let uid = slice.metadata.uid else { return }
        versions.withLockedValue { $0[service, default: [:]][uid] = Self.version(slice) }
    }

    /// Records that this controller deleted `slice`.
    public func expectDeletion(_ slice: EndpointSlice, service: ObjectKey) {
        guard let uid = slice.metadata.uid else { return }
        versions.withLockedValue { $0[service, default: [:]][uid] = Self.deletionExpected }
    }

    /// Whether an added or changed slice was written by someone else (or is newer than our last write).
    public func shouldSync(_ slice: EndpointSlice, service: ObjectKey) -> Bool {
        guard let uid = slice.metadata.uid,
            let known = versions.withLockedValue({ $0[service]?[uid] })
        else { return true }
        return Self.version(slice) > known
    }

    /// Forgets a slice seen deleted; true when this controller did not delete it.
    public func handleDeletion(_ slice: EndpointSlice, service: ObjectKey) -> Bool {
        guard let uid = slice.metadata.uid else { return true }
        let known = versions.withLockedValue { $0[service]?.removeValue(forKey: uid) }
        return known != Self.deletionExpected
    }

    /// Whether `cached` (the informer's slices of `service`) lacks a write of ours: a slice not yet there, older
    /// than written, or still there though deleted.
    public func isStale(_ cached: [EndpointSlice], service: ObjectKey) -> Bool {
        let expected = versions.withLockedValue { $0[service] ?? [:] }
        guard !expected.isEmpty else { return false }
        var cachedVersions: [String: Int64] = [:]
        for slice in cached {
            if let uid = slice.metadata.uid { cachedVersions[uid] = Self.version(slice) }
        }
        for (uid, version) in expected {
            if version == Self.deletionExpected {
                if cachedVersions[uid] != nil { return true }
            } else if (cachedVersions[uid] ?? Int64.min) < version {
                return true
            }
        }
        return false
    }

    /// Forgets a deleted service.
    public func deleteService(_ service: ObjectKey) {
        _ = versions.withLockedValue { $0.removeValue(forKey: service) }
    }

    private static func version(_ slice: EndpointSlice) -> Int64 {
        slice.metadata.resourceVersion.flatMap { Int64($0) } ?? 0
    }
}

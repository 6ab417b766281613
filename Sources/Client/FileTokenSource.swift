import Foundation
import NIOConcurrencyHelpers

/// A bearer token read from a file and re-read once a minute, as client-go's cached file token source:
/// projected service account tokens are rotated on disk, and a long-running component must follow.
final class FileTokenSource: Sendable {
    /// client-go re-reads token files this often.
    static let refreshPeriod: Duration = .seconds(60)

    private let path: String
    private let timeSource: any TimeSource
    private let cached: NIOLockedValueBox<(token: String?, readAt: ContinuousClock.Instant?)>

    /// A source for `path`; `initial` is used until (and while) the file cannot be read.
    init(path: String, initial: String?, timeSource: any TimeSource) {
        self.path = path
        self.timeSource = timeSource
        cached = NIOLockedValueBox((initial, nil))
    }

    /// The current token: the file's as last read, re-read when a minute old; nil if never readable.
    var token: String? {
        let now = timeSource.now
        return cached.withLockedValue { cached in
            if let readAt = cached.readAt, now - readAt < Self.refreshPeriod { return cached.token }
            cached.readAt = now
            // A file briefly missing mid-rotation keeps the previous token rather than dropping credentials.
            if let data = FileManager.default.contents(atPath: path) {
                let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                if !token.isEmpty { cached.token = token }
            }
            return cached.token
        }
    }
}

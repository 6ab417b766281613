import Foundation

/// Notices that files were replaced or rewritten by their metadata alone (device, inode, size, change and
/// modification times), so watching certificate files costs a few `stat` calls a second and no reads: a
/// rotation that renames a new file into place changes the inode, one that rewrites in place changes the times.
public struct FileChangeDetector: Sendable {
    /// What `stat` says about one file; nil fields stand for a file that is missing or unreadable.
    struct Fingerprint: Sendable, Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: timespec
        var changed: timespec

        static func == (left: Fingerprint, right: Fingerprint) -> Bool {
            left.device == right.device && left.inode == right.inode && left.size == right.size
                && left.modified.tv_sec == right.modified.tv_sec && left.modified.tv_nsec == right.modified.tv_nsec
                && left.changed.tv_sec == right.changed.tv_sec && left.changed.tv_nsec == right.changed.tv_nsec
        }
    }

    /// The files watched, in the order given.
    public let paths: [String]
    private var seen: [Fingerprint?]

    /// Starts from the files as they are now: only later changes count.
    public init(paths: [String]) {
        self.paths = paths
        seen = paths.map(Self.fingerprint)
    }

    /// True when any file differs from the previous call (or from `init`): appeared, vanished or changed.
    public mutating func changed() -> Bool {
        let now = paths.map(Self.fingerprint)
        defer { seen = now }
        return now != seen
    }

    static func fingerprint(_ path: String) -> Fingerprint? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Fingerprint(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modified: info.st_mtim, changed: info.st_ctim)
    }
}

import APIMachinery
import Foundation

/// The audit log file with rotation exactly as upstream's lumberjack logger does it: when a write would
/// take the file past `maxSizeBytes` the file is renamed to `<name>-<UTC 2006-01-02T15-04-05.000><ext>`
/// next to it and a new one is started; then backups beyond `maxBackups` (newest kept, by the time in
/// their names) and older than `maxAgeDays` are deleted. Zero means no limit for both.
///
/// Not thread-safe: only the log backend's writer thread uses it.
final class AuditLogFile {
    /// A failed write, with the text upstream's logger would print.
    struct WriteError: Error, CustomStringConvertible {
        var description: String
    }

    let path: String
    let maxSizeBytes: Int64
    let maxBackups: Int
    let maxAgeDays: Int
    /// The wall clock, injectable so tests can rotate several times within a millisecond.
    let now: () -> Date
    private var descriptor: Int32 = -1
    private var size: Int64 = 0

    /// `maxSizeMegabytes` 0 means lumberjack's default of 100 MB.
    convenience init(path: String, maxSizeMegabytes: Int, maxBackups: Int, maxAgeDays: Int) {
        self.init(
            path: path, maxSizeBytes: Int64(maxSizeMegabytes == 0 ? 100 : maxSizeMegabytes) * 1024 * 1024,
            maxBackups: maxBackups, maxAgeDays: maxAgeDays)
    }

    /// Sizes in bytes, so tests can rotate with tiny files.
    init(path: String, maxSizeBytes: Int64, maxBackups: Int, maxAgeDays: Int, now: @escaping () -> Date = Date.init) {
        self.path = path
        self.maxSizeBytes = maxSizeBytes
        self.maxBackups = maxBackups
        self.maxAgeDays = maxAgeDays
        self.now = now
    }

    deinit { close() }

    func close() {
        if descriptor >= 0 { Foundation.close(descriptor) }
        descriptor = -1
    }

    /// Appends `bytes`, rotating first when they would not fit.
    func write(_ bytes: [UInt8]) throws(WriteError) {
        let length = Int64(bytes.count)
        guard length <= maxSizeBytes else {
            throw WriteError(description: "write length \(length) exceeds maximum file size \(maxSizeBytes)")
        }
        if descriptor < 0 { try openExistingOrNew(adding: length) }
        if size + length > maxSizeBytes { try rotate() }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress else { return 0 }
                return Foundation.write(descriptor, base + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                let error = Self.errorText(errno)
                size += Int64(offset)
                throw WriteError(description: "write \(path): \(error)")
            }
            offset += written
        }
        size += length
    }

    private func openExistingOrNew(adding length: Int64) throws(WriteError) {
        removeOldBackups()
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return try openNew() }
            throw WriteError(description: "error getting log file info: stat \(path): \(Self.errorText(errno))")
        }
        if Int64(info.st_size) + length >= maxSizeBytes { return try rotate() }
        let opened = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard opened >= 0 else { return try openNew() }
        descriptor = opened
        size = Int64(info.st_size)
    }

    private func rotate() throws(WriteError) {
        close()
        try openNew()
        removeOldBackups()
    }

    /// Moves the current file aside (keeping its mode) and starts an empty one.
    private func openNew() throws(WriteError) {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var mode: mode_t = 0o600
        var info = stat()
        if stat(path, &info) == 0 {
            mode = info.st_mode & 0o7777
            let backup = backupName(at: now())
            guard rename(path, backup) == 0 else {
                throw WriteError(
                    description: "can't rename log file: rename \(path) \(backup): \(Self.errorText(errno))")
            }
        }
        let opened = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, mode)
        guard opened >= 0 else {
            throw WriteError(description: "can't open new logfile: open \(path): \(Self.errorText(errno))")
        }
        descriptor = opened
        size = 0
    }

    private var nameParts: (directory: String, prefix: String, ext: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        // filepath.Ext: from the last dot of the base name, dot included.
        let ext = base.lastIndex(of: ".").map { String(base[$0...]) } ?? ""
        return (directory.isEmpty ? "." : directory, String(base.dropLast(ext.count)) + "-", ext)
    }

    /// Go's `2006-01-02T15-04-05.000` in UTC: RFC 3339 with dashes for colons, as lumberjack names backups.
    static func formatBackupTime(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let fraction = String(millis - seconds * 1000)
        let base = Timestamp.format(epochSeconds: seconds).dropLast().replacingOccurrences(of: ":", with: "-")
        return base + "." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// The inverse of `formatBackupTime`; nil for anything lumberjack would not have written.
    static func parseBackupTime(_ text: Substring) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 23 else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for index in range {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { return nil }
                value = value * 10 + Int32(bytes[index] - UInt8(ascii: "0"))
            }
            return value
        }
        let separators: [(Int, Character)] = [(4, "-"), (7, "-"), (10, "T"), (13, "-"), (16, "-"), (19, ".")]
        guard separators.allSatisfy({ bytes[$0.0] == $0.1.asciiValue }),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            let millis = number(20..<23), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
            second < 60
        else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        return Date(timeIntervalSince1970: Double(timegm(&parts)) + Double(millis) / 1000)
    }

    /// `<dir>/<name>-<timestamp><ext>` for a rotation at `date`.
    func backupName(at date: Date) -> String {
        let parts = nameParts
        return parts.directory + "/" + parts.prefix + Self.formatBackupTime(date) + parts.ext
    }

    /// The backups next to the file, newest first, with the times in their names.
    func backups() -> [(name: String, time: Date)] {
        let parts = nameParts
        let names = (try? FileManager.default.contentsOfDirectory(atPath: parts.directory)) ?? []
        var result: [(name: String, time: Date)] = []
        for name in names where name.hasPrefix(parts.prefix) && name.hasSuffix(parts.ext) {
            let stamp = name.dropFirst(parts.prefix.count).dropLast(parts.ext.count)
            guard let time = Self.parseBackupTime(stamp) else { continue }
            var isDirectory: ObjCBool = false
            let full = parts.directory + "/" + name
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            result.append((full, time))
        }
        return result.sorted { $0.time > $1.time }
    }

    /// Deletes backups beyond `maxBackups` and older than `maxAgeDays`, as lumberjack's mill does.
    func removeOldBackups() {
        guard maxBackups > 0 || maxAgeDays > 0 else { return }
        var files = backups()
        var remove: [String] = []
        if maxBackups > 0, files.count > maxBackups {
            remove += files[maxBackups...].map(\.name)
            files = Array(files[..<maxBackups])
        }
        if maxAgeDays > 0 {
            let cutoff = now().addingTimeInterval(-Double(maxAgeDays) * 24 * 3600)
            remove += files.filter { $0.time < cutoff }.map(\.name)
        }
        for name in remove { unlink(name) }
    }

    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code)).lowercased()
    }
}

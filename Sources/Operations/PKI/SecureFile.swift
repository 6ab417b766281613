import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes files atomically with a chosen mode, so a private key is never readable by others,
/// not even for the moment between creating a file and changing its mode.
enum SecureFile {
    /// Key files: readable by the owner only, as upstream's `keyutil.WriteKey` does.
    static let privateMode: mode_t = 0o600
    /// Certificates are public; upstream's `certutil.WriteCert` uses 0644.
    static let publicMode: mode_t = 0o644

    /// Writes `text` to `path` through a temporary file in the same directory and a rename,
    /// creating missing parent directories with mode 0755.
    static func write(_ text: String, to path: String, mode: mode_t) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o755])
        } catch {
            throw PKIError.fileError(path: directory, reason: "cannot create directory: \(error)")
        }
        let temporary =
            directory + "/." + url.lastPathComponent
            + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard descriptor >= 0 else {
            throw PKIError.fileError(path: temporary, reason: String(cString: strerror(errno)))
        }
        var failure: String?
        // The umask may have cleared bits we asked for (e.g. 0644 under umask 077 is fine, but
        // a umask never adds bits); fchmod makes the mode exactly what was asked.
        if fchmod(descriptor, mode) != 0 { failure = String(cString: strerror(errno)) }
        var bytes = Array(text.utf8)[...]
        while failure == nil && !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { buffer in
                posixWrite(descriptor, buffer.baseAddress, buffer.count)
            }
            if written < 0 {
                if errno == EINTR { continue }
                failure = String(cString: strerror(errno))
            } else {
                bytes = bytes.dropFirst(written)
            }
        }
        if failure == nil && fsync(descriptor) != 0 { failure = String(cString: strerror(errno)) }
        close(descriptor)
        if failure == nil && rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw PKIError.fileError(path: path, reason: failure)
        }
    }

    /// Reads a UTF-8 text file.
    static func read(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw PKIError.fileError(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
    }
}

/// The system `write(2)`; a free function because inside `SecureFile` the name means our own.
private func posixWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}

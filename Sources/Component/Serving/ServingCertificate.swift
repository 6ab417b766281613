import Foundation
import Logging
import Operations

/// Why the secure port could not start; the message names what to fix.
public struct ServingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    public init(message: String) { self.message = message }
}

/// The certificate chain and key the secure port presents: the given files, else a self-signed pair as upstream's
/// `MaybeDefaultWithSelfSignedCerts` makes it (kept in `--cert-dir` when given, else in memory).
struct ServingCertificate: Sendable, Equatable {
    /// The serving certificate followed by its issuers.
    var certificatePEM: String
    var privateKeyPEM: String

    init(certificatePEM: String, privateKeyPEM: String) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }

    /// A loaded pair; its certificate text keeps every certificate the file held.
    init(_ pair: CertificateKeyPair) {
        self.init(certificatePEM: pair.certificatePEM, privateKeyPEM: pair.privateKeyPEM)
    }

    static func resolve(_ configuration: ServingConfiguration, logger: Logger, now: Date = Date()) throws
        -> ServingCertificate
    {
        if configuration.certFile != nil || configuration.keyFile != nil {
            guard let certFile = configuration.certFile, let keyFile = configuration.keyFile else {
                throw ServingError(message: "missing filename for serving cert")
            }
            return ServingCertificate(try load(certificateFile: certFile, keyFile: keyFile))
        }
        guard let directory = configuration.certDirectory else {
            let generated = try generate(configuration, now: now)
            logger.info("Generated self-signed cert in-memory")
            return generated
        }
        let certificateFile = directory + "/" + configuration.pairName + ".crt"
        let keyFile = directory + "/" + configuration.pairName + ".key"
        let manager = FileManager.default
        if manager.fileExists(atPath: certificateFile), manager.fileExists(atPath: keyFile) {
            let existing = try load(certificateFile: certificateFile, keyFile: keyFile)
            if existing.certificate.notValidAfter > now { return ServingCertificate(existing) }
            // Upstream keeps serving an expired pair until someone deletes it; nothing could connect.
            logger.warning("Self-signed cert (\(certificateFile), \(keyFile)) has expired; generating a new one")
        }
        let generated = try generate(configuration, now: now)
        try PrivateFile.write(generated.privateKeyPEM, to: keyFile, mode: 0o600)
        try PrivateFile.write(generated.certificatePEM, to: certificateFile, mode: 0o644)
        logger.info("Generated self-signed cert (\(certificateFile), \(keyFile))")
        return generated
    }

    /// Reads a pair, checking the key belongs to the first certificate so a mismatch fails at start, not at the
    /// first handshake.
    static func load(certificateFile: String, keyFile: String) throws -> CertificateKeyPair {
        do {
            return try CertificateKeyPair.load(certificateFile: certificateFile, keyFile: keyFile)
        } catch {
            throw ServingError(message: "failed to load serving cert/key pair: \(error)")
        }
    }

    /// A one-year CA `localhost-ca@<unix time>` and a leaf `localhost@<unix time>` for localhost and 127.0.0.1,
    /// plus the bind address when it names one interface, as upstream's components generate.
    static func generate(_ configuration: ServingConfiguration, now: Date) throws -> ServingCertificate {
        let stamp = Int(now.timeIntervalSince1970)
        var addresses = ["127.0.0.1"]
        if !configuration.bindsEveryInterface { addresses.append(configuration.bindAddress) }
        do {
            let authority = try CertificateAuthority.create(
                commonName: "localhost-ca@\(stamp)", lifetime: CertificateLifetime.leaf, now: now)
            let leaf = try authority.issueServing(
                commonName: "localhost@\(stamp)", dnsNames: ["localhost"], ipAddresses: addresses, now: now)
            // Clients given the .crt file as their CA need the issuer in it too.
            return ServingCertificate(
                certificatePEM: leaf.certificatePEM + authority.certificatePEM, privateKeyPEM: leaf.privateKeyPEM)
        } catch {
            throw ServingError(message: "unable to generate self signed cert: \(error)")
        }
    }
}

/// Atomic file writes whose mode is right from the first byte, so a key is never readable by others.
enum PrivateFile {
    static func write(_ text: String, to path: String, mode: mode_t) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            throw ServingError(message: "mkdir \(directory): \(error.localizedDescription)")
        }
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())"
        unlink(temporary)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard descriptor >= 0 else { throw failure("open", temporary) }
        var failed: ServingError?
        // A umask can clear bits that were asked for; fchmod makes the mode exactly what was asked.
        if fchmod(descriptor, mode) != 0 { failed = failure("chmod", temporary) }
        var bytes = Array(text.utf8)[...]
        while failed == nil, !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0, errno != EINTR {
                failed = failure("write", temporary)
            } else if written > 0 {
                bytes = bytes.dropFirst(written)
            }
        }
        if failed == nil, fsync(descriptor) != 0 { failed = failure("fsync", temporary) }
        close(descriptor)
        if failed == nil, rename(temporary, path) != 0 { failed = failure("rename", path) }
        if let failed {
            unlink(temporary)
            throw failed
        }
    }

    /// Go's `*PathError` wording: `open /path: permission denied`.
    private static func failure(_ operation: String, _ path: String) -> ServingError {
        ServingError(message: "\(operation) \(path): \(String(cString: strerror(errno)))")
    }
}

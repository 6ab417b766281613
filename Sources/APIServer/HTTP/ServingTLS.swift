import Component
import Foundation
public import Logging
import NIOConcurrencyHelpers
public import NIOSSL

/// The TLS each new connection to the secure port gets. Given certificate files are followed, as upstream's
/// dynamic serving certificate and client CA controllers follow theirs: a rotated pair (or client CA bundle) is
/// served from the next connection on, connections already open keep the pair they were accepted with, and a
/// set of files that does not load is logged while the last good one stays.
public final class ServingTLS: Sendable {
    /// Where the pair and the client CA come from; nil for a pair that is not read from files.
    public struct Files: Sendable, Equatable {
        public var certificate: String
        public var key: String
        /// `--client-ca-file`; nil turns client certificates off.
        public var clientCA: String?

        public init(certificate: String, key: String, clientCA: String?) {
            self.certificate = certificate
            self.key = key
            self.clientCA = clientCA
        }

        var paths: [String] { [certificate, key] + (clientCA.map { [$0] } ?? []) }

        /// Reads and checks the files: the key must belong to the certificate, so a half-written rotation fails
        /// here rather than at a client's handshake.
        public func load() throws -> TLSSettings {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate)
            let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
            let authorities = try clientCA.map { try NIOSSLCertificate.fromPEMFile($0) }
            let settings = try TLSSettings(certificateChain: chain, privateKey: privateKey, clientCA: authorities)
            // A context that builds proves the key matches the leaf: BoringSSL checks it.
            _ = try NIOSSLContext(configuration: settings.serverConfiguration())
            return settings
        }
    }

    /// One loaded set: the settings (with their client certificate judge) and the context built from them.
    struct Loaded: Sendable {
        var settings: TLSSettings
        var context: NIOSSLContext
    }

    /// How often the files' metadata is checked, standing in for upstream's fsnotify watch.
    static let checkInterval = Duration.seconds(1)
    /// How often the files are read again whatever their metadata says, as upstream's one-minute resync.
    static let reloadInterval = Duration.seconds(60)

    private let loaded: NIOLockedValueBox<Loaded>
    /// The files followed; nil when the pair was given in memory.
    public let files: Files?
    private let logger: Logger

    /// Serves `settings` as they are.
    public init(settings: TLSSettings, logger: Logger) throws {
        loaded = NIOLockedValueBox(
            Loaded(settings: settings, context: try NIOSSLContext(configuration: settings.serverConfiguration())))
        files = nil
        self.logger = logger
    }

    /// Serves the pair in `files`, failing now when it does not load.
    public init(files: Files, logger: Logger) throws {
        let settings = try files.load()
        loaded = NIOLockedValueBox(
            Loaded(settings: settings, context: try NIOSSLContext(configuration: settings.serverConfiguration())))
        self.files = files
        self.logger = logger
    }

    /// The context and the client certificate judge for a connection being accepted now.
    var current: Loaded { loaded.withLockedValue { $0 } }

    /// The leaf certificate presented to new connections.
    public var servingCertificate: NIOSSLCertificate? { current.settings.certificateChain.first }

    /// Reads the files again and serves what they hold from the next connection on when it changed; false when
    /// nothing changed or the files did not load.
    @discardableResult
    public func reloadIfChanged() -> Bool {
        guard let files else { return false }
        let settings: TLSSettings
        do {
            settings = try files.load()
        } catch {
            logger.error("Failed to reload the serving certificate, still serving the previous one: \(error)")
            return false
        }
        let old = current.settings
        let newPair = settings.certificateChain != old.certificateChain || settings.privateKey != old.privateKey
        let newAuthorities = settings.clientCA != old.clientCA
        guard newPair || newAuthorities else { return false }
        do {
            let context = try NIOSSLContext(configuration: settings.serverConfiguration())
            loaded.withLockedValue { $0 = Loaded(settings: settings, context: context) }
        } catch {
            logger.error("Failed to reload the serving certificate, still serving the previous one: \(error)")
            return false
        }
        if newPair {
            logger.info("Loaded a new cert/key pair (\(files.certificate), \(files.key))")
        }
        if newAuthorities, let clientCA = files.clientCA {
            logger.info("Loaded a new client CA bundle (\(clientCA))")
        }
        return true
    }

    /// Reloads within ``checkInterval`` of a change to any file, and every ``reloadInterval`` anyway, until the
    /// task is cancelled.
    public func followFiles() async {
        guard let files else { return }
        var detector = FileChangeDetector(paths: files.paths)
        var sinceReload = Duration.zero
        while (try? await Task.sleep(for: Self.checkInterval)) != nil {
            sinceReload += Self.checkInterval
            guard detector.changed() || sinceReload >= Self.reloadInterval else { continue }
            sinceReload = .zero
            reloadIfChanged()
        }
    }
}

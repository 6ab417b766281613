import Logging
import NIOConcurrencyHelpers
import NIOSSL

/// The TLS context each new connection gets. With `--tls-cert-file` it follows the files, as upstream's
/// dynamic serving certificate controller does, so a rotated certificate is served without a restart; a pair
/// that does not load is logged and the one already served stays.
final class ServingTLSContext: Sendable {
    private struct Loaded: Sendable {
        var certificate: ServingCertificate
        var context: NIOSSLContext
    }

    /// How often the files are read again whatever their metadata says; upstream also resyncs every minute
    /// besides watching them.
    static let reloadInterval = Duration.seconds(60)
    /// How often the files' metadata is checked, standing in for upstream's fsnotify watch.
    static let checkInterval = Duration.seconds(1)

    private let loaded: NIOLockedValueBox<Loaded>
    private let files: (certificate: String, key: String)?
    private let minimumVersion: ServingConfiguration.TLSVersion
    private let logger: Logger

    init(_ configuration: ServingConfiguration, logger: Logger) throws {
        let certificate = try ServingCertificate.resolve(configuration, logger: logger)
        let context = try Self.context(certificate, minimumVersion: configuration.minimumTLSVersion)
        loaded = NIOLockedValueBox(Loaded(certificate: certificate, context: context))
        if let certFile = configuration.certFile, let keyFile = configuration.keyFile {
            files = (certFile, keyFile)
        } else {
            files = nil
        }
        minimumVersion = configuration.minimumTLSVersion
        self.logger = logger
    }

    /// The context for a connection being accepted now.
    var current: NIOSSLContext { loaded.withLockedValue { $0.context } }

    /// The chain presented now, leaf first.
    var certificatePEM: String { loaded.withLockedValue { $0.certificate.certificatePEM } }

    /// True when the served pair comes from files that may change.
    var followsFiles: Bool { files != nil }

    /// Reads the files again and serves their pair from the next connection on when it changed.
    func reloadIfChanged() {
        guard let files else { return }
        let certificate: ServingCertificate
        do {
            certificate = ServingCertificate(
                try ServingCertificate.load(certificateFile: files.certificate, keyFile: files.key))
        } catch {
            logger.error("Failed to reload the serving certificate, still serving the previous one: \(error)")
            return
        }
        guard certificate != loaded.withLockedValue({ $0.certificate }) else { return }
        do {
            let context = try Self.context(certificate, minimumVersion: minimumVersion)
            loaded.withLockedValue { $0 = Loaded(certificate: certificate, context: context) }
            logger.info("Loaded a new cert/key pair (\(files.certificate), \(files.key))")
        } catch {
            logger.error("Failed to reload the serving certificate, still serving the previous one: \(error)")
        }
    }

    /// Reloads the pair within ``checkInterval`` of a change to either file, and every ``reloadInterval``
    /// anyway, until the task is cancelled.
    func followFiles() async {
        guard let files else { return }
        var detector = FileChangeDetector(paths: [files.certificate, files.key])
        var sinceReload = Duration.zero
        while (try? await Task.sleep(for: Self.checkInterval)) != nil {
            sinceReload += Self.checkInterval
            guard detector.changed() || sinceReload >= Self.reloadInterval else { continue }
            sinceReload = .zero
            reloadIfChanged()
        }
    }

    /// ALPN offers HTTP/1.1 only, the one protocol served here.
    static func context(_ certificate: ServingCertificate, minimumVersion: ServingConfiguration.TLSVersion) throws
        -> NIOSSLContext
    {
        do {
            let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificate.certificatePEM.utf8))
            let key = try NIOSSLPrivateKey(bytes: Array(certificate.privateKeyPEM.utf8), format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            switch minimumVersion {
            case .tls10: configuration.minimumTLSVersion = .tlsv1
            case .tls11: configuration.minimumTLSVersion = .tlsv11
            case .tls12: configuration.minimumTLSVersion = .tlsv12
            case .tls13: configuration.minimumTLSVersion = .tlsv13
            }
            configuration.applicationProtocols = ["http/1.1"]
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ServingError(message: "unable to load server certificate: \(error)")
        }
    }
}

import NIOConcurrencyHelpers
import NIOSSL

/// What a TLS connection's client certificate proves, judged once during the handshake and shared by
/// the connection's HTTP/2 streams.
final class ConnectionIdentity: Sendable {
    private let result = NIOLockedValueBox<(ClientCertificateResult, [NIOSSLCertificate])>((.none, []))
    /// The client's IP address, formatted once for all of the connection's requests ("" when unknown).
    let remoteAddress: String

    init(remoteAddress: String = "") { self.remoteAddress = remoteAddress }

    /// Set by the TLS verification callback, which completes before any request is read. The chain is kept
    /// for the request-header authenticator, which judges it against the front-proxy CA.
    func record(_ certificate: ClientCertificateResult, chain: [NIOSSLCertificate] = []) {
        result.withLockedValue { $0 = (certificate, chain) }
    }

    var certificate: ClientCertificateResult { result.withLockedValue { $0.0 } }
    var chain: [NIOSSLCertificate] { result.withLockedValue { $0.1 } }
    /// Both, under one lock.
    var credentials: (certificate: ClientCertificateResult, chain: [NIOSSLCertificate]) {
        result.withLockedValue { $0 }
    }
}

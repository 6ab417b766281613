import NIOConcurrencyHelpers

/// What a TLS connection's client certificate proves, judged once during the handshake and shared by
/// the connection's HTTP/2 streams.
final class ConnectionIdentity: Sendable {
    private let result = NIOLockedValueBox<ClientCertificateResult>(.none)

    init() {}

    /// Set by the TLS verification callback, which completes before any request is read.
    func record(_ certificate: ClientCertificateResult) {
        result.withLockedValue { $0 = certificate }
    }

    var certificate: ClientCertificateResult { result.withLockedValue { $0 } }
}

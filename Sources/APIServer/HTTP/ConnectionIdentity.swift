import APIMachinery
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOSSL
import X509

/// The identity a TLS connection's client certificate proves (CN = user, O = groups), read once per
/// connection and shared by its HTTP/2 streams.
final class ConnectionIdentity: Sendable {
    private let tlsChannel: any Channel
    private let authenticator: Authenticator
    private let certificateUser = NIOLockedValueBox<CertificateState>(.unknown)

    private enum CertificateState {
        case unknown
        case known(UserInfo?)
    }

    init(tlsChannel: any Channel, authenticator: Authenticator) {
        self.tlsChannel = tlsChannel
        self.authenticator = authenticator
    }

    /// The request's user, as upstream's authenticator chain decides: the client certificate first, then a
    /// bearer token; a token nobody recognises rejects the request rather than falling back to anonymous.
    func authenticate(headers: HTTPHeaders) async -> Authentication {
        if let user = await certificateIdentity() { return .user(user) }
        return authenticator.authenticate(headers: headers)
    }

    private func certificateIdentity() async -> UserInfo? {
        if case .known(let user) = certificateUser.withLockedValue({ $0 }) { return user }
        let certificate = try? await tlsChannel.nioSSL_peerCertificate().get()
        let user = certificate.flatMap(Self.user(from:))
        certificateUser.withLockedValue { $0 = .known(user) }
        return user
    }

    /// Maps a verified client certificate's subject to a user, as upstream's x509 authenticator does.
    static func user(from certificate: NIOSSLCertificate) -> UserInfo? {
        guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else {
            return nil
        }
        var name: String?
        var groups: [String] = []
        for rdn in parsed.subject {
            for attribute in rdn {
                guard let value = String(attribute.value) else { continue }
                if attribute.type == .RDNAttributeType.commonName, name == nil { name = value }
                if attribute.type == .RDNAttributeType.organizationName { groups.append(value) }
            }
        }
        guard let name, !name.isEmpty else { return nil }
        return UserInfo(name: name, groups: groups + ["system:authenticated"])
    }
}

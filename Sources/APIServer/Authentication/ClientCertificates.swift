public import APIMachinery
public import NIOSSL
import SwiftASN1
import X509

/// What a connection's client certificate proves.
public enum ClientCertificateResult: Sendable, Equatable {
    /// No certificate was presented.
    case none
    case user(UserInfo)
    /// A certificate was presented and failed verification; the reason is for the log.
    case invalid(String)
}

/// Verifies client certificates against `--client-ca-file` as upstream's x509 authenticator does:
/// a chain to one of the CAs, valid now, with the clientAuth usage when the certificate lists usages.
///
/// The TLS layer accepts any certificate and this type judges it, so a bad certificate gets upstream's
/// 401 Unauthorized rather than a failed handshake, and a valid bearer token still gets in beside it.
public struct ClientCertificateVerifier: Sendable {
    let roots: [Certificate]

    /// Reads the CA bundle; certificates that swift-certificates cannot parse are an error.
    public init(caCertificates: [NIOSSLCertificate]) throws {
        roots = try caCertificates.map { try Certificate(derEncoded: $0.toDERBytes()) }
    }

    /// Judges a presented chain (leaf first) now.
    public func verify(chain: [NIOSSLCertificate]) async -> ClientCertificateResult {
        guard !chain.isEmpty else { return .none }
        let parsed: [Certificate]
        do {
            parsed = try chain.map { try Certificate(derEncoded: $0.toDERBytes()) }
        } catch {
            return .invalid("malformed client certificate: \(error)")
        }
        guard let leaf = parsed.first else { return .none }
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy()
            ClientAuthUsagePolicy()
        }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(parsed.dropFirst()))
        switch result {
        case .validCertificate:
            guard let user = Self.user(from: leaf) else {
                return .invalid("client certificate has no common name")
            }
            return .user(user)
        case .couldNotValidate(let failures):
            let reason = failures.first.map { String(describing: $0.policyFailureReason) } ?? "no chain to a trusted CA"
            return .invalid("x509: certificate signed by unknown authority or invalid: \(reason)")
        }
    }

    /// CN = user name, each O = a group, as upstream's `CommonNameUserConversion`.
    static func user(from certificate: Certificate) -> UserInfo? {
        var name: String?
        var groups: [String] = []
        for rdn in certificate.subject {
            for attribute in rdn {
                guard let value = String(attribute.value) else { continue }
                if attribute.type == .RDNAttributeType.commonName, name == nil { name = value }
                if attribute.type == .RDNAttributeType.organizationName { groups.append(value) }
            }
        }
        guard let name, !name.isEmpty else { return nil }
        return UserInfo(name: name, groups: groups)
    }
}

/// Go's `x509.VerifyOptions{KeyUsages: [ClientAuth]}`: a leaf that lists extended key usages must list
/// clientAuth (or any); a leaf that lists none is allowed.
struct ClientAuthUsagePolicy: VerifierPolicy {
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [.X509ExtensionID.extendedKeyUsage]

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        let listed: ExtendedKeyUsage?
        do {
            listed = try chain.leaf.extensions.extendedKeyUsage
        } catch {
            return .failsToMeetPolicy(reason: "malformed extended key usage extension")
        }
        guard let usages = listed else { return .meetsPolicy }
        if usages.contains(.clientAuth) || usages.contains(.any) { return .meetsPolicy }
        return .failsToMeetPolicy(reason: "x509: certificate specifies an incompatible key usage")
    }
}

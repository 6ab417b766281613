import Crypto
public import Foundation
import X509

/// What a kubelet files in the TLS bootstrap: a new P-256 key and a PKCS#10 request for
/// `CN=system:node:<name>, O=system:nodes`, the subject the `kube-apiserver-client-kubelet` signer and
/// the csrapproving controller accept.
public struct NodeCertificateRequest: Sendable {
    /// The request as PEM (`CERTIFICATE REQUEST`), ready for a CSR's `spec.request` (base64 of these bytes).
    public let requestPEM: String
    /// The new private key as PEM; it never leaves the node.
    public let keyPEM: String

    /// The signer and usages upstream's kubelet asks for.
    public static let signerName = "kubernetes.io/kube-apiserver-client-kubelet"
    public static let usages = ["digital signature", "client auth"]

    /// Makes a fresh key and a request for node `nodeName`.
    public init(nodeName: String) throws {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let subject = try DistinguishedName([
            RelativeDistinguishedName.Attribute(type: .RDNAttributeType.organizationName, utf8String: "system:nodes"),
            RelativeDistinguishedName.Attribute(
                type: .RDNAttributeType.commonName, utf8String: "system:node:" + nodeName),
        ])
        let request = try X509.CertificateSigningRequest(
            version: .v1, subject: subject, privateKey: key, attributes: .init(),
            signatureAlgorithm: .ecdsaWithSHA256)
        requestPEM = try request.serializeAsPEM().pemString + "\n"
        keyPEM = try PEM.encode(key)
    }

    /// When a certificate valid from `notBefore` to `notAfter` is renewed: at 70 to 90 % of its life,
    /// `jitter` (0…1) picking the point, as the kubelet's certificate manager spreads renewals.
    public static func renewalTime(notBefore: Date, notAfter: Date, jitter: Double) -> Date {
        let life = notAfter.timeIntervalSince(notBefore)
        let fraction = 0.7 + 0.2 * min(max(jitter, 0), 1)
        return notBefore.addingTimeInterval(life * fraction)
    }
}

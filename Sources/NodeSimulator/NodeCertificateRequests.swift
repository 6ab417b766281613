public import Client
import Crypto
public import Foundation
public import Operations
import X509

/// The pure parts of a node's TLS bootstrap, as upstream's certificate manager does them: the request's name,
/// the object filed, what a request's status says, and when an issued certificate is renewed.
public enum NodeCertificateRequests {
    /// Upstream's name for a kubelet's request: `node-csr-` and a digest of the public key, the subject and the
    /// usages, so the same key asks under the same name. (Upstream digests with SHA-512/256; SHA-256 here, which
    /// swift-crypto has, gives a name of the same shape.)
    public static func name(publicKeyDER: [UInt8], commonName: String, organizations: [String], usages: [String])
        -> String
    {
        var hash = SHA256()
        let texts = [commonName] + organizations + usages
        let fields = [publicKeyDER] + texts.map { Array($0.utf8) }
        for field in fields {
            hash.update(data: Array(base64URL(field).utf8))
            hash.update(data: [UInt8(ascii: "|")])
        }
        return "node-csr-" + base64URL(Array(hash.finalize()))
    }

    /// The CertificateSigningRequest a kubelet files for node `nodeName` with `request`.
    public static func object(for request: NodeCertificateRequest, nodeName: String) throws
        -> Client.CertificateSigningRequest
    {
        let parsed = try X509.CertificateSigningRequest(pemEncoded: request.requestPEM)
        guard let key = P256.Signing.PublicKey(parsed.publicKey) else {
            throw NodeSimulatorError("the node's certificate request does not hold a P-256 key")
        }
        let name = Self.name(
            publicKeyDER: Array(key.derRepresentation), commonName: "system:node:" + nodeName,
            organizations: ["system:nodes"], usages: NodeCertificateRequest.usages)
        return Client.CertificateSigningRequest(
            spec: CertificateSigningRequestSpec(
                request: Data(request.requestPEM.utf8).base64EncodedString(),
                signerName: NodeCertificateRequest.signerName, usages: NodeCertificateRequest.usages),
            metadata: ObjectMeta(name: name))
    }

    /// What a request's status says so far.
    public enum Outcome: Sendable, Hashable {
        /// Neither issued nor refused yet (approved but not yet signed included).
        case pending
        /// Signed: the certificate chain as PEM.
        case issued(certificatePEM: String)
        /// Denied or failed, in upstream's words.
        case refused(String)
    }

    /// Reads `request`'s status as client-go's `WaitForCertificate` does: a Denied or Failed condition ends the
    /// wait with its reason and message, a certificate ends it with the certificate.
    public static func outcome(of request: Client.CertificateSigningRequest) -> Outcome {
        for condition in request.status.conditions where condition.status != "False" {
            let reason = condition.reason ?? ""
            let message = condition.message ?? ""
            switch condition.type {
            case "Denied":
                return .refused("certificate signing request is denied, reason: \(reason), message: \(message)")
            case "Failed":
                return .refused("certificate signing request failed, reason: \(reason), message: \(message)")
            default: break
            }
        }
        guard let encoded = request.status.certificate, !encoded.isEmpty, let bytes = Data(base64Encoded: encoded)
        else { return .pending }
        return .issued(certificatePEM: String(decoding: bytes, as: UTF8.self))
    }

    /// When a certificate valid from `notBefore` to `notAfter` is renewed, seen at `now`: at 70 to 90 % of its
    /// life by `jitter` (0…1), and at once when that point has passed.
    public static func renewalDelay(notBefore: Date, notAfter: Date, jitter: Double, now: Date) -> Duration {
        let deadline = NodeCertificateRequest.renewalTime(notBefore: notBefore, notAfter: notAfter, jitter: jitter)
        let seconds = max(deadline.timeIntervalSince(now), 0)
        return .milliseconds(Int64((seconds * 1_000).rounded(.up)))
    }

    /// Base64 with the URL alphabet and no padding (Go's `base64.RawURLEncoding`).
    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

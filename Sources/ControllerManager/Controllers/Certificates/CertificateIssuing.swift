import Foundation
import Operations
import X509

/// Certificates for requests, through the shared PKI (`Operations`), kept apart from the controllers because
/// X.509's and Kubernetes' `CertificateSigningRequest` share a name.
enum CertificateIssuing {
    /// The certificate upstream's local signer issues: the request's subject, names and key, the usages it asked
    /// for, notBefore five minutes back and notAfter `lifetime` on (less the backdate for long lifetimes), never
    /// past the CA's own expiry.
    static func sign(
        _ facts: CertificateRequestFacts, usages: [String], lifetime: TimeInterval, by authority: CertificateAuthority,
        now: Date
    ) throws -> String {
        let caExpiry = authority.certificate.notValidAfter
        guard now < caExpiry else {
            throw CertificateControllerError(
                "refusing to sign a certificate that expired in the past: NotAfter=\(caExpiry)")
        }
        var usage: CertificateUsage = []
        if usages.contains("server auth") { usage.insert(.serverAuth) }
        if usages.contains("client auth") { usage.insert(.clientAuth) }
        let spec = CertificateSpec(
            commonName: facts.commonName, organizations: facts.organizations, dnsNames: facts.dnsNames,
            ipAddresses: facts.ipAddresses, usage: usage,
            lifetime: CertificateRequestRules.validAfterNow(lifetime: lifetime))
        return try PEM.encode(authority.sign(spec, publicKey: facts.request.publicKey, now: now))
    }

    /// The notAfter of the first certificate in PEM `bytes` (a request's `status.certificate`); nil when none parses.
    static func expiry(ofCertificatePEM bytes: [UInt8]) -> Date? {
        guard let text = String(bytes: bytes, encoding: .utf8),
            let certificate = try? PEM.certificates(from: text, source: "status.certificate").first
        else { return nil }
        return certificate.notValidAfter
    }
}

public import Foundation

/// The API server's fallback serving certificate when `--tls-cert-file` is not given.
///
/// Upstream writes `apiserver.crt` and `apiserver.key` into `--cert-dir` (default
/// `/var/run/kubernetes`): a throw-away CA named `<host>-ca@<unix time>` signs a leaf named
/// `<host>@<unix time>`, and the certificate file holds the leaf followed by that CA. Existing
/// files are reused, so restarts keep the certificate clients may already have pinned.
public enum SelfSignedServingCertificate {
    /// Upstream's pair name: the files are `<pairName>.crt` and `<pairName>.key`.
    public static let pairName = "apiserver"

    /// Paths of the certificate and key, and whether they were made just now.
    public struct Files: Sendable, Hashable {
        /// `<certDirectory>/apiserver.crt`.
        public var certificateFile: String
        /// `<certDirectory>/apiserver.key`.
        public var keyFile: String
        /// True when this call generated them, false when existing files were reused.
        public var created: Bool
    }

    /// Returns usable files in `certDirectory`, generating them when missing, unreadable,
    /// not matching each other, or expired.
    ///
    /// - Parameters:
    ///   - hostNames: DNS names; the first is used in the subject. ``CertificateSpec/apiServerDNSNames``
    ///     are always added, as upstream adds the `kubernetes` Service names.
    ///   - ipAddresses: IP addresses, e.g. the advertise address, 127.0.0.1 and the service IP.
    public static func ensure(
        certDirectory: String,
        hostNames: [String],
        ipAddresses: [String],
        lifetime: TimeInterval = CertificateLifetime.leaf,
        now: Date = Date()
    ) throws -> Files {
        let certificateFile = certDirectory + "/" + pairName + ".crt"
        let keyFile = certDirectory + "/" + pairName + ".key"
        if let existing = try? CertificateKeyPair.load(
            certificateFile: certificateFile, keyFile: keyFile),
            existing.certificate.notValidAfter > now
        {
            return Files(certificateFile: certificateFile, keyFile: keyFile, created: false)
        }
        let pair = try generate(
            hostNames: hostNames, ipAddresses: ipAddresses, lifetime: lifetime, now: now)
        try pair.write(certificateFile: certificateFile, keyFile: keyFile)
        return Files(certificateFile: certificateFile, keyFile: keyFile, created: true)
    }

    /// Generates the pair without writing it; `certificatePEM` holds the leaf then its CA.
    public static func generate(
        hostNames: [String],
        ipAddresses: [String],
        lifetime: TimeInterval = CertificateLifetime.leaf,
        now: Date = Date()
    ) throws -> CertificateKeyPair {
        let host = hostNames.first ?? ipAddresses.first ?? "localhost"
        let stamp = Int(now.timeIntervalSince1970)
        let authority = try CertificateAuthority.create(
            commonName: "\(host)-ca@\(stamp)", lifetime: lifetime, now: now)
        let leaf = try authority.issue(
            .serving(
                commonName: "\(host)@\(stamp)",
                dnsNames: hostNames + CertificateSpec.apiServerDNSNames,
                ipAddresses: ipAddresses, lifetime: lifetime),
            now: now)
        // Clients that are given apiserver.crt as their CA file need the issuer in it too.
        return CertificateKeyPair(
            certificate: leaf.certificate, privateKey: leaf.privateKey,
            certificatePEM: leaf.certificatePEM + authority.certificatePEM,
            privateKeyPEM: leaf.privateKeyPEM)
    }
}

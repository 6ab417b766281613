public import Foundation
import SwiftASN1
public import X509

/// A certificate authority that signs the cluster's serving and client certificates.
///
/// Create one with ``create(commonName:organizations:lifetime:keyAlgorithm:now:)`` or load the
/// guide's `ca.pem`/`ca-key.pem` (RSA from cfssl, or EC) with ``load(directory:)``.
public struct CertificateAuthority: Sendable {
    /// The file names the guide uses in `/etc/kubernetes/ssl`.
    public static let certificateFileName = "ca.pem"
    /// The CA key's file name in the guide.
    public static let keyFileName = "ca-key.pem"

    /// The CA certificate and key.
    public let keyPair: CertificateKeyPair

    /// The CA certificate.
    public var certificate: Certificate { keyPair.certificate }
    /// The CA certificate as PEM, what `--client-ca-file` and kubeconfigs carry.
    public var certificatePEM: String { keyPair.certificatePEM }

    /// Wraps an existing CA pair, refusing a certificate that declares itself not a CA.
    public init(keyPair: CertificateKeyPair, source: String = "CA certificate") throws {
        guard keyPair.privateKey.publicKey == keyPair.certificate.publicKey else {
            throw PKIError.keyDoesNotMatchCertificate(certificate: source, key: source)
        }
        if let constraints = try? keyPair.certificate.extensions.basicConstraints,
            case .notCertificateAuthority = constraints
        {
            throw PKIError.notACertificateAuthority(source: source)
        }
        self.keyPair = keyPair
    }

    /// Loads a CA from PEM texts (the first certificate in `certificatePEM` is the CA).
    public init(certificatePEM: String, privateKeyPEM: String) throws {
        let certificate = try PEM.certificates(from: certificatePEM, source: "CA certificate")[0]
        let key = try PEM.privateKey(from: privateKeyPEM, source: "CA key")
        try self.init(
            keyPair: CertificateKeyPair(
                certificate: certificate, privateKey: key, certificatePEM: certificatePEM,
                privateKeyPEM: privateKeyPEM))
    }

    /// Loads a CA from a certificate file and a key file.
    public static func load(certificateFile: String, keyFile: String) throws -> CertificateAuthority {
        try CertificateAuthority(
            keyPair: CertificateKeyPair.load(certificateFile: certificateFile, keyFile: keyFile),
            source: certificateFile)
    }

    /// Loads `ca.pem` and `ca-key.pem` from `directory`.
    public static func load(directory: String) throws -> CertificateAuthority {
        try load(
            certificateFile: directory + "/" + certificateFileName, keyFile: directory + "/" + keyFileName
        )
    }

    /// Creates a new self-signed CA.
    public static func create(
        commonName: String = "kubernetes-ca",
        organizations: [String] = [],
        lifetime: TimeInterval = CertificateLifetime.certificateAuthority,
        keyAlgorithm: KeyAlgorithm = .ecdsaP256,
        now: Date = Date()
    ) throws -> CertificateAuthority {
        let key = try keyAlgorithm.generate()
        let name = try distinguishedName(commonName: commonName, organizations: organizations)
        var extensions = Certificate.Extensions()
        try extensions.append(
            Certificate.Extension(
                BasicConstraints.isCertificateAuthority(maxPathLength: nil), critical: true))
        try extensions.append(
            Certificate.Extension(
                KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true), critical: true))
        try extensions.append(
            Certificate.Extension(SubjectKeyIdentifier(hash: key.publicKey), critical: false))
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: key.publicKey,
            notValidBefore: now - CertificateLifetime.clockSkewAllowance,
            notValidAfter: now + lifetime,
            issuer: name,
            subject: name,
            signatureAlgorithm: key.defaultSignatureAlgorithmForIssuing,
            extensions: extensions,
            issuerPrivateKey: key)
        return try CertificateAuthority(
            keyPair: CertificateKeyPair(certificate: certificate, privateKey: key))
    }

    /// Issues a leaf certificate with a freshly generated key.
    ///
    /// Its expiry is clamped to the CA's own: a leaf outliving its CA would fail verification
    /// anyway, and clamping makes the real expiry visible in the certificate.
    public func issue(_ spec: CertificateSpec, now: Date = Date()) throws -> CertificateKeyPair {
        let key = try spec.keyAlgorithm.generate()
        let certificate = try sign(spec, publicKey: key.publicKey, now: now)
        return try CertificateKeyPair(certificate: certificate, privateKey: key)
    }

    /// Signs a leaf certificate for an existing public key (e.g. one taken from a CSR).
    public func sign(_ spec: CertificateSpec, publicKey: Certificate.PublicKey, now: Date = Date())
        throws -> Certificate
    {
        var extensions = Certificate.Extensions()
        try extensions.append(
            Certificate.Extension(BasicConstraints.notCertificateAuthority, critical: true))
        try extensions.append(
            Certificate.Extension(KeyUsage(digitalSignature: true, keyEncipherment: true), critical: true)
        )
        var usages = ExtendedKeyUsage()
        if spec.usage.contains(.serverAuth) { usages.append(.serverAuth) }
        if spec.usage.contains(.clientAuth) { usages.append(.clientAuth) }
        if !usages.isEmpty {
            try extensions.append(Certificate.Extension(usages, critical: false))
        }
        try extensions.append(
            Certificate.Extension(SubjectKeyIdentifier(hash: publicKey), critical: false))
        let authorityKeyID =
            (try? certificate.extensions.subjectKeyIdentifier)?.keyIdentifier
            ?? SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier
        try extensions.append(
            Certificate.Extension(AuthorityKeyIdentifier(keyIdentifier: authorityKeyID), critical: false))
        let names = try Self.subjectAlternativeNames(
            dnsNames: spec.dnsNames, ipAddresses: spec.ipAddresses)
        if !names.isEmpty {
            try extensions.append(Certificate.Extension(names, critical: false))
        }
        let notAfter = min(now + spec.lifetime, certificate.notValidAfter)
        return try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: max(now - CertificateLifetime.clockSkewAllowance, certificate.notValidBefore),
            notValidAfter: notAfter,
            issuer: certificate.subject,
            subject: Self.distinguishedName(
                commonName: spec.commonName, organizations: spec.organizations),
            signatureAlgorithm: keyPair.privateKey.defaultSignatureAlgorithmForIssuing,
            extensions: extensions,
            issuerPrivateKey: keyPair.privateKey)
    }

    /// Issues a serving certificate (EKU serverAuth) for the given names.
    public func issueServing(
        commonName: String = "kubernetes", dnsNames: [String], ipAddresses: [String],
        lifetime: TimeInterval = CertificateLifetime.leaf, now: Date = Date()
    ) throws -> CertificateKeyPair {
        try issue(
            .serving(
                commonName: commonName, dnsNames: dnsNames, ipAddresses: ipAddresses, lifetime: lifetime),
            now: now)
    }

    /// Issues a client certificate (EKU clientAuth) with CN = user and O = groups.
    public func issueClient(
        user: String, groups: [String] = [], lifetime: TimeInterval = CertificateLifetime.leaf,
        now: Date = Date()
    ) throws -> CertificateKeyPair {
        try issue(.client(user: user, groups: groups, lifetime: lifetime), now: now)
    }

    /// Writes `ca.pem` (0644) and `ca-key.pem` (0600) into `directory`.
    public func write(directory: String) throws {
        try keyPair.write(
            certificateFile: directory + "/" + Self.certificateFileName,
            keyFile: directory + "/" + Self.keyFileName)
    }

    /// Builds O=… then CN=…, each in its own RDN, the order Go's pkix.Name produces.
    static func distinguishedName(commonName: String, organizations: [String]) throws
        -> DistinguishedName
    {
        var attributes = organizations.map {
            RelativeDistinguishedName.Attribute(type: .RDNAttributeType.organizationName, utf8String: $0)
        }
        attributes.append(.init(type: .RDNAttributeType.commonName, utf8String: commonName))
        return try DistinguishedName(attributes)
    }

    /// DNS then IP names, without duplicates, each validated.
    static func subjectAlternativeNames(dnsNames: [String], ipAddresses: [String]) throws
        -> SubjectAlternativeNames
    {
        var names = SubjectAlternativeNames()
        var seenDNS = Set<String>()
        for name in dnsNames where seenDNS.insert(name.lowercased()).inserted {
            // dNSName is an IA5String: ASCII only, and a space or an empty name is never a host.
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                throw PKIError.invalidDNSName(name)
            }
            names.append(.dnsName(name))
        }
        var seenIPs = Set<[UInt8]>()
        for text in ipAddresses {
            guard let bytes = IPAddressBytes.parse(text) else { throw PKIError.invalidIPAddress(text) }
            if seenIPs.insert(bytes).inserted {
                names.append(.ipAddress(ASN1OctetString(contentBytes: bytes[...])))
            }
        }
        return names
    }
}

extension Certificate.PrivateKey {
    /// SHA-256 based signatures for every key kind; swift-certificates' default is the same for
    /// P-256 and RSA, stated here so a change upstream cannot silently pick SHA-1.
    var defaultSignatureAlgorithmForIssuing: Certificate.SignatureAlgorithm {
        let supported = supportedSignatureAlgorithms
        for preferred in [Certificate.SignatureAlgorithm.ecdsaWithSHA256, .sha256WithRSAEncryption]
        where supported.contains(preferred) {
            return preferred
        }
        // Ed25519 has exactly one algorithm.
        return supported.first ?? .ecdsaWithSHA256
    }
}

public import Foundation
public import X509

/// What a leaf certificate may be used for in TLS (its extended key usage).
public struct CertificateUsage: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// TLS server authentication (EKU serverAuth): API server serving certificates.
    public static let serverAuth = CertificateUsage(rawValue: 1 << 0)
    /// TLS client authentication (EKU clientAuth): users and components talking to the API server.
    public static let clientAuth = CertificateUsage(rawValue: 1 << 1)
}

/// Default lifetimes, as in upstream's kubeadm: leaves live a year, CAs ten years.
public enum CertificateLifetime {
    /// One year, for serving and client certificates.
    public static let leaf: TimeInterval = 365 * 24 * 3600
    /// Ten years, for certificate authorities.
    public static let certificateAuthority: TimeInterval = 10 * 365 * 24 * 3600
    /// How far notBefore is set back from "now", so masters whose clocks lag a little
    /// accept a certificate issued on another machine at once.
    public static let clockSkewAllowance: TimeInterval = 5 * 60
}

/// The subject, names, usage and lifetime of a leaf certificate to issue.
public struct CertificateSpec: Sendable, Hashable {
    /// Subject CN; for client certificates the Kubernetes user name.
    public var commonName: String
    /// Subject O entries; for client certificates the Kubernetes groups.
    public var organizations: [String]
    /// DNS subject alternative names.
    public var dnsNames: [String]
    /// IP subject alternative names, as text (IPv4 or IPv6).
    public var ipAddresses: [String]
    /// Extended key usages.
    public var usage: CertificateUsage
    /// Seconds from issue to expiry (clamped to the issuing CA's own expiry).
    public var lifetime: TimeInterval
    /// The kind of key to generate.
    public var keyAlgorithm: KeyAlgorithm

    public init(
        commonName: String,
        organizations: [String] = [],
        dnsNames: [String] = [],
        ipAddresses: [String] = [],
        usage: CertificateUsage,
        lifetime: TimeInterval = CertificateLifetime.leaf,
        keyAlgorithm: KeyAlgorithm = .ecdsaP256
    ) {
        self.commonName = commonName
        self.organizations = organizations
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
        self.usage = usage
        self.lifetime = lifetime
        self.keyAlgorithm = keyAlgorithm
    }

    /// The DNS names every API server certificate carries: how in-cluster clients reach the
    /// `kubernetes` Service, plus localhost.
    public static let apiServerDNSNames = [
        "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]

    /// A TLS serving certificate (EKU serverAuth) for the given names.
    public static func serving(
        commonName: String = "kubernetes",
        dnsNames: [String],
        ipAddresses: [String],
        lifetime: TimeInterval = CertificateLifetime.leaf,
        keyAlgorithm: KeyAlgorithm = .ecdsaP256
    ) -> CertificateSpec {
        CertificateSpec(
            commonName: commonName, dnsNames: dnsNames, ipAddresses: ipAddresses, usage: .serverAuth,
            lifetime: lifetime, keyAlgorithm: keyAlgorithm)
    }

    /// A TLS client certificate (EKU clientAuth) naming a user (CN) and its groups (O),
    /// which is how the API server's x509 authenticator reads identity.
    public static func client(
        user: String,
        groups: [String] = [],
        lifetime: TimeInterval = CertificateLifetime.leaf,
        keyAlgorithm: KeyAlgorithm = .ecdsaP256
    ) -> CertificateSpec {
        CertificateSpec(
            commonName: user, organizations: groups, usage: .clientAuth, lifetime: lifetime,
            keyAlgorithm: keyAlgorithm)
    }
}

/// A certificate with its private key and their PEM texts.
public struct CertificateKeyPair: Sendable {
    /// The certificate.
    public let certificate: Certificate
    /// The certificate's private key.
    public let privateKey: Certificate.PrivateKey
    /// The certificate as PEM (`CERTIFICATE`); for a self-signed serving pair the CA follows it.
    public let certificatePEM: String
    /// The private key as PEM (PKCS#8 for EC, PKCS#1 for RSA).
    public let privateKeyPEM: String

    /// Wraps a certificate and key, encoding both as PEM.
    public init(certificate: Certificate, privateKey: Certificate.PrivateKey) throws {
        try self.init(
            certificate: certificate, privateKey: privateKey,
            certificatePEM: PEM.encode(certificate), privateKeyPEM: PEM.encode(privateKey))
    }

    init(
        certificate: Certificate, privateKey: Certificate.PrivateKey, certificatePEM: String,
        privateKeyPEM: String
    ) {
        self.certificate = certificate
        self.privateKey = privateKey
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }

    /// Loads a pair from PEM files, checking that the key belongs to the (first) certificate.
    public static func load(certificateFile: String, keyFile: String) throws -> CertificateKeyPair {
        let certificateText = try SecureFile.read(certificateFile)
        let keyText = try SecureFile.read(keyFile)
        let certificate = try PEM.certificates(from: certificateText, source: certificateFile)[0]
        let key = try PEM.privateKey(from: keyText, source: keyFile)
        guard key.publicKey == certificate.publicKey else {
            throw PKIError.keyDoesNotMatchCertificate(certificate: certificateFile, key: keyFile)
        }
        return CertificateKeyPair(
            certificate: certificate, privateKey: key, certificatePEM: certificateText,
            privateKeyPEM: keyText)
    }

    /// Writes the certificate (mode 0644) and the key (mode 0600), each atomically.
    public func write(certificateFile: String, keyFile: String) throws {
        try SecureFile.write(privateKeyPEM, to: keyFile, mode: SecureFile.privateMode)
        try SecureFile.write(certificatePEM, to: certificateFile, mode: SecureFile.publicMode)
    }
}

/// The Kubernetes identity a client certificate asserts: CN is the user, each O a group.
public struct CertificateSubject: Sendable, Hashable {
    /// The first CN, if any.
    public var commonName: String?
    /// Every O, in order.
    public var organizations: [String]

    /// Reads CN and O entries from a distinguished name (multi-valued RDNs included).
    public init(_ name: DistinguishedName) {
        var commonName: String?
        var organizations: [String] = []
        for rdn in name {
            for attribute in rdn {
                guard let value = String(attribute.value) else { continue }
                if attribute.type == .RDNAttributeType.commonName && commonName == nil {
                    commonName = value
                } else if attribute.type == .RDNAttributeType.organizationName {
                    organizations.append(value)
                }
            }
        }
        self.commonName = commonName
        self.organizations = organizations
    }
}

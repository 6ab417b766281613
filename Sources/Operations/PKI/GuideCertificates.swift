public import Foundation

/// The certificate set the guide keeps in `/etc/kubernetes/ssl`: a CA, the API server's
/// serving certificate, and the admin and kube-proxy client certificates.
public struct GuideCertificates: Sendable {
    /// What goes into the API server certificate and how long leaves live.
    public struct Options: Sendable, Hashable {
        /// DNS names for `kubernetes.pem`; defaults to ``CertificateSpec/apiServerDNSNames``.
        public var apiServerDNSNames: [String]
        /// IPs for `kubernetes.pem`: loopback, the masters' addresses, the load balancer's,
        /// and the first address of the service range.
        public var apiServerIPAddresses: [String]
        /// Leaf lifetime.
        public var lifetime: TimeInterval
        /// The kind of keys to generate (the guide's cfssl made RSA 2048).
        public var keyAlgorithm: KeyAlgorithm

        public init(
            apiServerDNSNames: [String] = CertificateSpec.apiServerDNSNames,
            apiServerIPAddresses: [String] = ["127.0.0.1", "10.254.0.1"],
            lifetime: TimeInterval = CertificateLifetime.leaf,
            keyAlgorithm: KeyAlgorithm = .ecdsaP256
        ) {
            self.apiServerDNSNames = apiServerDNSNames
            self.apiServerIPAddresses = apiServerIPAddresses
            self.lifetime = lifetime
            self.keyAlgorithm = keyAlgorithm
        }
    }

    /// The CA (`ca.pem`, `ca-key.pem`).
    public let certificateAuthority: CertificateAuthority
    /// `kubernetes.pem` / `kubernetes-key.pem`: CN=kubernetes, serverAuth and clientAuth as the
    /// guide's cfssl "kubernetes" profile gives (the API server also uses it towards kubelets).
    public let apiServer: CertificateKeyPair
    /// `admin.pem` / `admin-key.pem`: CN=admin, O=system:masters.
    public let admin: CertificateKeyPair
    /// `kube-proxy.pem` / `kube-proxy-key.pem`: CN=system:kube-proxy.
    public let kubeProxy: CertificateKeyPair

    /// Issues the leaves from `certificateAuthority` (new or loaded).
    public init(
        certificateAuthority: CertificateAuthority, options: Options = Options(), now: Date = Date()
    ) throws {
        self.certificateAuthority = certificateAuthority
        apiServer = try certificateAuthority.issue(
            CertificateSpec(
                commonName: "kubernetes", dnsNames: options.apiServerDNSNames,
                ipAddresses: options.apiServerIPAddresses, usage: [.serverAuth, .clientAuth],
                lifetime: options.lifetime, keyAlgorithm: options.keyAlgorithm),
            now: now)
        admin = try certificateAuthority.issue(
            .client(
                user: "admin", groups: ["system:masters"], lifetime: options.lifetime,
                keyAlgorithm: options.keyAlgorithm),
            now: now)
        kubeProxy = try certificateAuthority.issue(
            .client(
                user: "system:kube-proxy", lifetime: options.lifetime, keyAlgorithm: options.keyAlgorithm),
            now: now)
    }

    /// The guide's file names, relative to the directory.
    public static let fileNames = [
        "ca.pem", "ca-key.pem", "kubernetes.pem", "kubernetes-key.pem", "admin.pem", "admin-key.pem",
        "kube-proxy.pem", "kube-proxy-key.pem",
    ]

    /// Writes all eight files into `directory` (keys 0600, certificates 0644).
    public func write(directory: String) throws {
        try certificateAuthority.write(directory: directory)
        try apiServer.write(
            certificateFile: directory + "/kubernetes.pem", keyFile: directory + "/kubernetes-key.pem")
        try admin.write(
            certificateFile: directory + "/admin.pem", keyFile: directory + "/admin-key.pem")
        try kubeProxy.write(
            certificateFile: directory + "/kube-proxy.pem", keyFile: directory + "/kube-proxy-key.pem")
    }

    /// Writes the guide's set into `directory`, reusing `ca.pem`/`ca-key.pem` when both exist
    /// (so certificates already handed out stay valid) and creating a CA otherwise.
    @discardableResult
    public static func write(
        directory: String, options: Options = Options(), now: Date = Date()
    ) throws -> GuideCertificates {
        let fileManager = FileManager.default
        let caFile = directory + "/" + CertificateAuthority.certificateFileName
        let caKeyFile = directory + "/" + CertificateAuthority.keyFileName
        let authority: CertificateAuthority
        if fileManager.fileExists(atPath: caFile) && fileManager.fileExists(atPath: caKeyFile) {
            authority = try CertificateAuthority.load(directory: directory)
        } else {
            authority = try CertificateAuthority.create(keyAlgorithm: options.keyAlgorithm, now: now)
        }
        let set = try GuideCertificates(certificateAuthority: authority, options: options, now: now)
        try set.write(directory: directory)
        return set
    }
}

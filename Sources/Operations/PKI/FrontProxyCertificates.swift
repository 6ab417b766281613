public import Foundation

/// kubeadm's front-proxy pair: a CA of its own (`front-proxy-ca.pem`), which extension API servers trust
/// through `--requestheader-client-ca-file`, and the API server's proxy client certificate
/// (`front-proxy-client.pem`, CN=front-proxy-client) that it presents to them when it aggregates their APIs.
/// A CA apart from the cluster's, so that no ordinary client certificate can pass for a front proxy.
public struct FrontProxyCertificates: Sendable {
    /// The common name aggregated servers allow (`--requestheader-allowed-names`).
    public static let clientName = "front-proxy-client"
    public static let fileNames = [
        "front-proxy-ca.pem", "front-proxy-ca-key.pem", "front-proxy-client.pem", "front-proxy-client-key.pem",
    ]

    public let certificateAuthority: CertificateAuthority
    public let client: CertificateKeyPair

    /// Writes the pair into `directory`, keeping a CA already there (so servers that trust it still do) and
    /// issuing the client certificate when it is missing.
    @discardableResult
    public static func write(
        directory: String, lifetime: TimeInterval = CertificateLifetime.leaf,
        keyAlgorithm: KeyAlgorithm = .ecdsaP256, now: Date = Date()
    ) throws -> FrontProxyCertificates {
        let fileManager = FileManager.default
        let caFile = directory + "/front-proxy-ca.pem"
        let caKeyFile = directory + "/front-proxy-ca-key.pem"
        let authority: CertificateAuthority
        if fileManager.fileExists(atPath: caFile) && fileManager.fileExists(atPath: caKeyFile) {
            authority = try CertificateAuthority.load(certificateFile: caFile, keyFile: caKeyFile)
        } else {
            authority = try CertificateAuthority.create(
                commonName: "front-proxy-ca", keyAlgorithm: keyAlgorithm, now: now)
            try authority.keyPair.write(certificateFile: caFile, keyFile: caKeyFile)
        }
        let clientFile = directory + "/front-proxy-client.pem"
        let clientKeyFile = directory + "/front-proxy-client-key.pem"
        let client: CertificateKeyPair
        if fileManager.fileExists(atPath: clientFile) && fileManager.fileExists(atPath: clientKeyFile) {
            client = try CertificateKeyPair.load(certificateFile: clientFile, keyFile: clientKeyFile)
        } else {
            client = try authority.issue(
                .client(user: clientName, lifetime: lifetime, keyAlgorithm: keyAlgorithm), now: now)
            try client.write(certificateFile: clientFile, keyFile: clientKeyFile)
        }
        return FrontProxyCertificates(certificateAuthority: authority, client: client)
    }

    /// The kube-apiserver flags kubeadm sets with this pair in `directory`: present the client certificate
    /// to aggregated servers, and accept front proxies signed by the CA.
    public static func apiServerFlags(directory: String) -> [String] {
        [
            "--proxy-client-cert-file=\(directory)/front-proxy-client.pem",
            "--proxy-client-key-file=\(directory)/front-proxy-client-key.pem",
            "--requestheader-client-ca-file=\(directory)/front-proxy-ca.pem",
            "--requestheader-allowed-names=\(clientName)", "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group", "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        ]
    }
}

public import Foundation
import X509

extension GuideCertificates {
    /// One leaf certificate of the cluster's set: its file stem (`<name>.pem`, `<name>-key.pem`) and what to issue.
    public struct Leaf: Sendable, Hashable {
        /// File stem, e.g. `kubernetes` or `etcd-peer`.
        public var name: String
        /// Subject, names and usage.
        public var spec: CertificateSpec

        public init(name: String, spec: CertificateSpec) {
            self.name = name
            self.spec = spec
        }
    }

    /// What `kubeswift pki` needs beyond ``Options``: the etcd members and where kubeconfigs point.
    public struct FileSetOptions: Sendable, Hashable {
        /// The API server certificate's names, lifetime and key kind.
        public var certificates: Options
        /// IPs of the etcd members, for the etcd server and peer certificates.
        public var etcdIPAddresses: [String]
        /// Server URL of the kubeconfigs used from outside a master (admin, kube-proxy, bootstrap): the load balancer.
        public var clusterServer: String
        /// Server URL of the scheduler and controller-manager kubeconfigs: each talks to its own master's API server.
        public var localServer: String

        public init(
            certificates: Options = Options(), etcdIPAddresses: [String] = ["127.0.0.1"],
            clusterServer: String = "https://127.0.0.1:6443", localServer: String = "https://127.0.0.1:6443"
        ) {
            self.certificates = certificates
            self.etcdIPAddresses = etcdIPAddresses
            self.clusterServer = clusterServer
            self.localServer = localServer
        }
    }

    /// The component kubeconfigs with a client certificate of their own: file stem to user and groups.
    static let componentUsers: [(name: String, user: String, groups: [String])] = [
        ("admin", "admin", ["system:masters"]),
        ("kube-proxy", "system:kube-proxy", []),
        ("kube-scheduler", "system:kube-scheduler", []),
        ("kube-controller-manager", "system:kube-controller-manager", []),
    ]

    /// Every leaf of the cluster's set: the guide's four plus the scheduler, controller-manager and etcd ones.
    public static func leaves(options: FileSetOptions) -> [Leaf] {
        let certificates = options.certificates
        let lifetime = certificates.lifetime
        let algorithm = certificates.keyAlgorithm
        var leaves = [
            Leaf(
                name: "kubernetes",
                spec: CertificateSpec(
                    commonName: "kubernetes", dnsNames: certificates.apiServerDNSNames,
                    ipAddresses: certificates.apiServerIPAddresses, usage: [.serverAuth, .clientAuth],
                    lifetime: lifetime, keyAlgorithm: algorithm))
        ]
        for component in componentUsers {
            leaves.append(
                Leaf(
                    name: component.name,
                    spec: .client(
                        user: component.user, groups: component.groups, lifetime: lifetime, keyAlgorithm: algorithm
                    )))
        }
        let etcdIPs = unique(["127.0.0.1"] + options.etcdIPAddresses)
        leaves += [
            Leaf(
                name: "etcd-server",
                spec: .serving(
                    commonName: "etcd", dnsNames: ["localhost"], ipAddresses: etcdIPs, lifetime: lifetime,
                    keyAlgorithm: algorithm)),
            // Members dial each other with the same certificate they serve with, so it carries both usages.
            Leaf(
                name: "etcd-peer",
                spec: CertificateSpec(
                    commonName: "etcd-peer", dnsNames: ["localhost"], ipAddresses: etcdIPs,
                    usage: [.serverAuth, .clientAuth], lifetime: lifetime, keyAlgorithm: algorithm)),
            // The API server's identity towards etcd, as kubeadm's apiserver-etcd-client.
            Leaf(
                name: "etcd-client",
                spec: .client(user: "kube-apiserver-etcd-client", lifetime: lifetime, keyAlgorithm: algorithm)),
        ]
        return leaves
    }

    /// Every file `writeFileSet` produces, relative to its directory.
    public static func fileSetNames(options: FileSetOptions) -> [String] {
        ["ca.pem", "ca-key.pem"] + leaves(options: options).flatMap { [$0.name + ".pem", $0.name + "-key.pem"] }
            + ["token.csv", "bootstrap.kubeconfig"] + componentUsers.map { $0.name + ".kubeconfig" }
    }

    /// Writes the cluster's whole set into `directory`, idempotently: the CA is kept when present, a leaf is issued
    /// only when its files are missing (or `force`), `token.csv` is kept, and a kubeconfig is rewritten when its
    /// certificate was. Returns the files written.
    @discardableResult
    public static func writeFileSet(
        directory: String, options: FileSetOptions, force: Bool = false, now: Date = Date()
    ) throws -> [String] {
        let fileManager = FileManager.default
        try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var written: [String] = []
        let authority: CertificateAuthority
        if fileManager.fileExists(atPath: directory + "/" + CertificateAuthority.certificateFileName) {
            authority = try CertificateAuthority.load(directory: directory)
        } else {
            authority = try CertificateAuthority.create(keyAlgorithm: options.certificates.keyAlgorithm, now: now)
            try authority.write(directory: directory)
            written += [CertificateAuthority.certificateFileName, CertificateAuthority.keyFileName]
        }
        var pairs: [String: CertificateKeyPair] = [:]
        var issued = Set<String>()
        for leaf in leaves(options: options) {
            let certificateFile = "\(directory)/\(leaf.name).pem"
            let keyFile = "\(directory)/\(leaf.name)-key.pem"
            if !force && fileManager.fileExists(atPath: certificateFile) && fileManager.fileExists(atPath: keyFile) {
                pairs[leaf.name] = try CertificateKeyPair.load(certificateFile: certificateFile, keyFile: keyFile)
                continue
            }
            let pair = try authority.issue(leaf.spec, now: now)
            try pair.write(certificateFile: certificateFile, keyFile: keyFile)
            pairs[leaf.name] = pair
            issued.insert(leaf.name)
            written += [leaf.name + ".pem", leaf.name + "-key.pem"]
        }
        let tokenFile = directory + "/token.csv"
        let token: String
        if let existing = try? BootstrapTokenFile.token(fromFile: tokenFile) {
            token = existing
        } else {
            token = BootstrapToken.generate()
            try SecureFile.write(BootstrapTokenFile.line(token: token), to: tokenFile, mode: SecureFile.privateMode)
            written.append("token.csv")
        }
        let bootstrapFile = directory + "/bootstrap.kubeconfig"
        if force || written.contains("token.csv") || !fileManager.fileExists(atPath: bootstrapFile) {
            try Kubeconfig.bootstrap(
                server: options.clusterServer, certificateAuthorityPEM: authority.certificatePEM, token: token
            ).write(toFile: bootstrapFile)
            written.append("bootstrap.kubeconfig")
        }
        for component in componentUsers {
            let file = "\(directory)/\(component.name).kubeconfig"
            guard let pair = pairs[component.name],
                issued.contains(component.name) || !fileManager.fileExists(atPath: file)
            else { continue }
            let local = component.name == "kube-scheduler" || component.name == "kube-controller-manager"
            try Kubeconfig.clientCertificate(
                server: local ? options.localServer : options.clusterServer,
                certificateAuthorityPEM: authority.certificatePEM, userName: component.user,
                certificatePEM: pair.certificatePEM, keyPEM: pair.privateKeyPEM
            ).write(toFile: file)
            written.append(component.name + ".kubeconfig")
        }
        return written
    }

    private static func unique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }
}

/// The guide's `token.csv`: `token,user,uid,"group"` for the kubelet bootstrap user.
public enum BootstrapTokenFile {
    /// The guide's line for `token`.
    public static func line(token: String) -> String {
        "\(token),kubelet-bootstrap,10001,\"system:kubelet-bootstrap\"\n"
    }

    /// The token of the first line of `path`.
    public static func token(fromFile path: String) throws -> String {
        let text = try SecureFile.read(path)
        guard let first = text.split(separator: "\n").first?.split(separator: ",").first, !first.isEmpty else {
            throw PKIError.fileError(path: path, reason: "no token line")
        }
        return String(first)
    }
}

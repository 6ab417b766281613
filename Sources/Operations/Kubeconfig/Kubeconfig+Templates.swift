import Foundation

extension Kubeconfig {
    /// A one-cluster, one-user kubeconfig whose current context `contextName` joins them,
    /// with the CA embedded as data, as `kubectl config set-cluster --embed-certs` writes it.
    public static func single(
        clusterName: String = "kubernetes",
        server: String,
        certificateAuthorityPEM: String,
        userName: String,
        user: User,
        contextName: String = "default",
        namespace: String? = nil
    ) -> Kubeconfig {
        Kubeconfig(
            clusters: [
                Named(
                    clusterName,
                    Cluster(server: server, certificateAuthorityData: Data(certificateAuthorityPEM.utf8)))
            ],
            users: [Named(userName, user)],
            contexts: [
                Named(contextName, Context(cluster: clusterName, user: userName, namespace: namespace))
            ],
            currentContext: contextName)
    }

    /// The guide's `bootstrap.kubeconfig`: cluster `kubernetes` with the CA embedded, user
    /// `kubelet-bootstrap` authenticating with the token from `token.csv`, context `default`.
    public static func bootstrap(server: String, certificateAuthorityPEM: String, token: String)
        -> Kubeconfig
    {
        single(
            server: server, certificateAuthorityPEM: certificateAuthorityPEM,
            userName: "kubelet-bootstrap",
            user: User(token: token))
    }

    /// A kubeconfig for a client-certificate user with the CA, certificate and key embedded.
    public static func clientCertificate(
        server: String,
        certificateAuthorityPEM: String,
        userName: String,
        certificatePEM: String,
        keyPEM: String,
        clusterName: String = "kubernetes",
        contextName: String = "default"
    ) -> Kubeconfig {
        single(
            clusterName: clusterName, server: server, certificateAuthorityPEM: certificateAuthorityPEM,
            userName: userName,
            user: User(
                clientCertificateData: Data(certificatePEM.utf8), clientKeyData: Data(keyPEM.utf8)),
            contextName: contextName)
    }

    /// A kubeconfig for `user` (in `groups`) with a fresh client certificate from `authority`, as a component
    /// such as kube-scheduler or kube-controller-manager runs with.
    public static func issued(
        forUser user: String, groups: [String] = [], server: String, authority: CertificateAuthority
    ) throws -> Kubeconfig {
        let identity = try authority.issueClient(user: user, groups: groups)
        return clientCertificate(
            server: server, certificateAuthorityPEM: authority.certificatePEM, userName: user,
            certificatePEM: identity.certificatePEM, keyPEM: identity.privateKeyPEM)
    }

    /// The admin kubeconfig (`~/.kube/config` in the guide): user `admin` with `admin.pem` and
    /// `admin-key.pem` embedded, context `kubernetes`.
    public static func admin(
        server: String, certificateAuthority: CertificateAuthority, admin: CertificateKeyPair
    ) -> Kubeconfig {
        clientCertificate(
            server: server, certificateAuthorityPEM: certificateAuthority.certificatePEM,
            userName: "admin",
            certificatePEM: admin.certificatePEM, keyPEM: admin.privateKeyPEM, contextName: "kubernetes")
    }

    /// The guide's `kube-proxy.kubeconfig`: user `kube-proxy` with its certificate embedded.
    public static func kubeProxy(
        server: String, certificateAuthority: CertificateAuthority, kubeProxy: CertificateKeyPair
    ) -> Kubeconfig {
        clientCertificate(
            server: server, certificateAuthorityPEM: certificateAuthority.certificatePEM,
            userName: "kube-proxy",
            certificatePEM: kubeProxy.certificatePEM, keyPEM: kubeProxy.privateKeyPEM)
    }
}

/// Bearer tokens for `token.csv` and bootstrap kubeconfigs.
public enum BootstrapToken {
    /// 16 random bytes as 32 lowercase hex digits, like the guide's
    /// `head -c 16 /dev/urandom | od -An -t x | tr -d ' '`.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
    }
}

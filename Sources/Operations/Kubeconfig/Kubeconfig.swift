public import Foundation

/// A kubeconfig file: the clusters, users and contexts kubectl and our clients read.
///
/// Holds the fields KubeSwift uses; others (exec plugins, auth providers, extensions) are
/// dropped when parsing, and rendering writes the standard `apiVersion: v1`, `kind: Config` shape.
public struct Kubeconfig: Sendable, Hashable {
    /// How to reach and trust an API server.
    public struct Cluster: Sendable, Hashable {
        /// The API server URL, e.g. `https://127.0.0.1:6443`.
        public var server: String
        /// Path of a PEM CA bundle to trust (`certificate-authority`).
        public var certificateAuthority: String?
        /// PEM CA bundle bytes (`certificate-authority-data`, base64 in the file).
        public var certificateAuthorityData: Data?
        /// Skip server certificate verification (`insecure-skip-tls-verify`).
        public var insecureSkipTLSVerify: Bool
        /// Server name to verify instead of the URL's host (`tls-server-name`).
        public var tlsServerName: String?

        public init(
            server: String, certificateAuthority: String? = nil, certificateAuthorityData: Data? = nil,
            insecureSkipTLSVerify: Bool = false, tlsServerName: String? = nil
        ) {
            self.server = server
            self.certificateAuthority = certificateAuthority
            self.certificateAuthorityData = certificateAuthorityData
            self.insecureSkipTLSVerify = insecureSkipTLSVerify
            self.tlsServerName = tlsServerName
        }
    }

    /// Credentials: a client certificate and key, a bearer token, or basic auth.
    public struct User: Sendable, Hashable {
        /// Path of the client certificate PEM (`client-certificate`).
        public var clientCertificate: String?
        /// Client certificate PEM bytes (`client-certificate-data`).
        public var clientCertificateData: Data?
        /// Path of the client key PEM (`client-key`).
        public var clientKey: String?
        /// Client key PEM bytes (`client-key-data`).
        public var clientKeyData: Data?
        /// Bearer token (`token`).
        public var token: String?
        /// Path of a file holding the bearer token (`tokenFile`).
        public var tokenFile: String?
        /// Basic-auth user name (`username`).
        public var username: String?
        /// Basic-auth password (`password`).
        public var password: String?

        public init(
            clientCertificate: String? = nil, clientCertificateData: Data? = nil,
            clientKey: String? = nil,
            clientKeyData: Data? = nil, token: String? = nil, tokenFile: String? = nil,
            username: String? = nil,
            password: String? = nil
        ) {
            self.clientCertificate = clientCertificate
            self.clientCertificateData = clientCertificateData
            self.clientKey = clientKey
            self.clientKeyData = clientKeyData
            self.token = token
            self.tokenFile = tokenFile
            self.username = username
            self.password = password
        }
    }

    /// A cluster, a user and a default namespace, chosen together by name.
    public struct Context: Sendable, Hashable {
        /// Name of an entry in `clusters`.
        public var cluster: String
        /// Name of an entry in `users` (kubectl's `user` key; empty means none).
        public var user: String
        /// Default namespace for requests in this context.
        public var namespace: String?

        public init(cluster: String, user: String, namespace: String? = nil) {
            self.cluster = cluster
            self.user = user
            self.namespace = namespace
        }
    }

    /// A value with the name it is listed under, as kubeconfig lists are keyed by `name`.
    public struct Named<Value: Sendable & Hashable>: Sendable, Hashable {
        /// The entry's name.
        public var name: String
        /// The entry.
        public var value: Value

        public init(_ name: String, _ value: Value) {
            self.name = name
            self.value = value
        }
    }

    /// Named clusters, in file order.
    public var clusters: [Named<Cluster>]
    /// Named users (kubectl's `users`), in file order.
    public var users: [Named<User>]
    /// Named contexts, in file order.
    public var contexts: [Named<Context>]
    /// The context used when none is asked for; empty when unset.
    public var currentContext: String

    public init(
        clusters: [Named<Cluster>] = [], users: [Named<User>] = [], contexts: [Named<Context>] = [],
        currentContext: String = ""
    ) {
        self.clusters = clusters
        self.users = users
        self.contexts = contexts
        self.currentContext = currentContext
    }

    /// The cluster named `name`, if listed.
    public func cluster(named name: String) -> Cluster? {
        clusters.first { $0.name == name }?.value
    }

    /// The user named `name`, if listed.
    public func user(named name: String) -> User? {
        users.first { $0.name == name }?.value
    }

    /// The context named `name`, if listed.
    public func context(named name: String) -> Context? {
        contexts.first { $0.name == name }?.value
    }

    /// The current context with its cluster and user resolved, or nil when any is missing.
    public var resolvedCurrentContext: (context: Context, cluster: Cluster, user: User)? {
        guard let context = context(named: currentContext),
            let cluster = cluster(named: context.cluster)
        else {
            return nil
        }
        // A context without a user is legal (anonymous access), so an absent user is an empty one.
        return (context, cluster, user(named: context.user) ?? User())
    }

    /// Makes relative file paths absolute against `directory`, as kubectl resolves paths in a
    /// kubeconfig relative to the file that holds them.
    public func resolvingPaths(relativeTo directory: String) -> Kubeconfig {
        func resolve(_ path: String?) -> String? {
            guard let path, !path.isEmpty, !path.hasPrefix("/") else { return path }
            return URL(
                fileURLWithPath: path, relativeTo: URL(fileURLWithPath: directory, isDirectory: true)
            )
            .standardizedFileURL.path
        }
        var copy = self
        for index in copy.clusters.indices {
            copy.clusters[index].value.certificateAuthority = resolve(
                copy.clusters[index].value.certificateAuthority)
        }
        for index in copy.users.indices {
            copy.users[index].value.clientCertificate = resolve(copy.users[index].value.clientCertificate)
            copy.users[index].value.clientKey = resolve(copy.users[index].value.clientKey)
            copy.users[index].value.tokenFile = resolve(copy.users[index].value.tokenFile)
        }
        return copy
    }
}

import Foundation
public import Operations

/// Where a `RESTClient` connects and how it proves who it is.
public struct ClientConfiguration: Sendable, Hashable {
    /// Host name or IP address of the API server (no brackets for IPv6).
    public var host: String
    /// TCP port of the API server.
    public var port: Int
    /// Path prefix from the server URL (e.g. `/k8s` for `https://lb:443/k8s`), empty for none.
    public var basePath: String
    /// False for an `http://` server (the guide era's `--master=http://127.0.0.1:8080`): plain HTTP/1.1 over
    /// TCP, as Go's client speaks to such a URL, instead of TLS with HTTP/2.
    public var usesTLS: Bool = true
    /// PEM bundle of CAs to trust; nil trusts the system's default roots.
    public var trustRootsPEM: [UInt8]?
    /// PEM client certificate chain, presented when the server asks for one.
    public var clientCertificatePEM: [UInt8]?
    /// PEM private key of the client certificate.
    public var clientKeyPEM: [UInt8]?
    /// Bearer token sent as `Authorization: Bearer …`.
    public var bearerToken: String?
    /// A file holding the bearer token, re-read every minute so rotated tokens are followed; while
    /// readable it wins over `bearerToken`, as in client-go (kubeconfig `tokenFile`, in-cluster `token`).
    public var bearerTokenFile: String?
    /// A token replaced while the client runs; when set it wins over `bearerTokenFile` and `bearerToken`.
    public var dynamicToken: DynamicToken?
    /// Basic-auth user name, for servers that still accept basic auth.
    public var basicAuthUser: String?
    /// Basic-auth password.
    public var basicAuthPassword: String?
    /// Skip verification of the server certificate (kubeconfig `insecure-skip-tls-verify`).
    public var insecureSkipTLSVerify: Bool = false
    /// Name to verify the server certificate against instead of `host` (kubeconfig `tls-server-name`).
    public var tlsServerName: String?
    /// HTTP/2 connections to spread streams over; one is enough for most clients.
    public var connections: Int = 1
    /// Time allowed for TCP connect plus TLS handshake.
    public var connectTimeout: Duration = .seconds(10)
    /// Time allowed for a whole non-watch request; nil waits forever.
    public var requestTimeout: Duration? = .seconds(60)
    /// Sent as `User-Agent`.
    public var userAgent: String = "kubeswift-client/0.1"
    /// The context's default namespace, when the configuration came from a kubeconfig.
    public var namespace: String?
    /// Requests a second the client sends at most, watches excepted (`--kube-api-qps`); 0 takes
    /// client-go's default of 5, a negative value turns client-side rate limiting off.
    public var qps: Double = Self.defaultQPS
    /// Requests the client may send at once above `qps` (`--kube-api-burst`); 0 takes client-go's 10.
    public var burst: Int = Self.defaultBurst

    /// client-go's `rest.DefaultQPS`.
    public static let defaultQPS: Double = 5
    /// client-go's `rest.DefaultBurst`.
    public static let defaultBurst = 10

    /// A configuration for `server` (an `https://host:port[/prefix]` URL) with no credentials yet.
    public init(server: String) throws(ClientError) {
        let parsed = try Self.parseServer(server)
        host = parsed.host
        port = parsed.port
        basePath = parsed.basePath
        usesTLS = parsed.usesTLS
    }

    /// The current (or named) context of a parsed kubeconfig. Paths in it must already be absolute
    /// or relative to the working directory (``Kubeconfig/load(fromFile:)`` resolves them).
    public init(kubeconfig: Kubeconfig, context name: String? = nil) throws(ClientError) {
        let contextName = name ?? kubeconfig.currentContext
        guard let context = kubeconfig.context(named: contextName) else {
            throw .invalidConfiguration(
                contextName.isEmpty ? "kubeconfig has no current context" : "context \"\(contextName)\" not found")
        }
        guard let cluster = kubeconfig.cluster(named: context.cluster) else {
            throw .invalidConfiguration("cluster \"\(context.cluster)\" of context \"\(contextName)\" not found")
        }
        let user = kubeconfig.user(named: context.user) ?? Kubeconfig.User()
        try self.init(server: cluster.server)
        namespace = context.namespace
        insecureSkipTLSVerify = cluster.insecureSkipTLSVerify
        tlsServerName = cluster.tlsServerName
        // Data wins over a path, as in client-go.
        trustRootsPEM = try Self.bytes(cluster.certificateAuthorityData, file: cluster.certificateAuthority)
        clientCertificatePEM = try Self.bytes(user.clientCertificateData, file: user.clientCertificate)
        clientKeyPEM = try Self.bytes(user.clientKeyData, file: user.clientKey)
        if (clientCertificatePEM == nil) != (clientKeyPEM == nil) {
            throw .invalidConfiguration(
                "user \"\(context.user)\" has a client certificate without a key or the reverse")
        }
        if let token = user.token {
            bearerToken = token
        } else if let tokenFile = user.tokenFile, let data = try Self.bytes(nil, file: tokenFile) {
            bearerToken = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            bearerTokenFile = tokenFile
        }
        if let username = user.username {
            basicAuthUser = username
            basicAuthPassword = user.password ?? ""
        }
    }

    /// Reads a kubeconfig file and takes its current (or named) context.
    public static func load(kubeconfigPath path: String, context: String? = nil) throws -> ClientConfiguration {
        try ClientConfiguration(kubeconfig: Kubeconfig.load(fromFile: path), context: context)
    }

    /// Whether `other` reaches the same server over the same kind of connection with the same TLS identity,
    /// so the two may share connections (credentials sent as headers, user agent and rate limits may differ).
    func sameTransport(as other: ClientConfiguration) -> Bool {
        host == other.host && port == other.port && usesTLS == other.usesTLS && trustRootsPEM == other.trustRootsPEM
            && clientCertificatePEM == other.clientCertificatePEM && clientKeyPEM == other.clientKeyPEM
            && insecureSkipTLSVerify == other.insecureSkipTLSVerify && tlsServerName == other.tlsServerName
            && connections == other.connections && connectTimeout == other.connectTimeout
    }

    /// The `:authority` pseudo-header: `host:port`, with brackets for IPv6.
    public var authority: String {
        (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
    }

    /// True when `host` is an IPv4 or IPv6 literal; such names cannot go into SNI.
    var hostIsIPAddress: Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    private static func bytes(_ data: Data?, file: String?) throws(ClientError) -> [UInt8]? {
        if let data { return Array(data) }
        guard let file else { return nil }
        guard let contents = FileManager.default.contents(atPath: file) else {
            throw .invalidConfiguration("cannot read \(file)")
        }
        return Array(contents)
    }

    /// Splits `https://host:port/prefix` or `http://…`; the port defaults to 443 or 80 as in client-go.
    static func parseServer(_ server: String) throws(ClientError) -> (
        host: String, port: Int, basePath: String, usesTLS: Bool
    ) {
        guard let components = URLComponents(string: server), let scheme = components.scheme?.lowercased() else {
            throw .invalidConfiguration("server \"\(server)\" is not a URL")
        }
        guard scheme == "https" || scheme == "http" else {
            throw .invalidConfiguration("server \"\(server)\": only https and http are supported")
        }
        guard var host = components.host, !host.isEmpty else {
            throw .invalidConfiguration("server \"\(server)\" has no host")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        guard (1...65535).contains(port) else {
            throw .invalidConfiguration("server \"\(server)\" has an invalid port")
        }
        var basePath = components.percentEncodedPath
        while basePath.hasSuffix("/") { basePath.removeLast() }
        return (host, port, basePath, scheme == "https")
    }
}

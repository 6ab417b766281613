import Foundation
public import NIOCore
import NIOSSL

/// How to reach the etcd cluster: upstream's `--etcd-servers`, `--etcd-cafile`, `--etcd-certfile`, `--etcd-keyfile`.
public struct EtcdConfiguration: Sendable {
    public var endpoints: [GRPCEndpoint]
    /// PEM files; the CA verifies the members' certificates, the certificate and key identify us.
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?
    /// How long one connection attempt may take (etcd's client: `DialTimeout`, upstream uses 20 s).
    public var dialTimeout: TimeAmount = .seconds(2)
    /// The deadline of one attempt of one call; a member that does not answer in time is left for the next.
    public var callTimeout: TimeAmount = .seconds(5)
    /// How long a call keeps retrying across members before it fails with `.unavailable`.
    public var retryBudget: Duration = .seconds(20)
    /// After this long without a frame from the member while calls are open, a PING checks that it is
    /// still there (etcd's client: `DialKeepAliveTime`). etcd answers pings closer than its
    /// `--grpc-keepalive-min-time` (5 s) with GOAWAY too_many_pings, so this stays at 5 s or more.
    public var keepAliveTime: TimeAmount = .seconds(5)
    /// How long the PING's acknowledgement may take before the member counts as gone and the connection
    /// is closed, so calls and watches move to the next member (etcd's client: `DialKeepAliveTimeout`).
    public var keepAliveTimeout: TimeAmount = .seconds(3)
    /// HTTP/2 connections to the member that calls made off the client's event loops take in turn (each
    /// other loop has one more, for the calls made on it); the watch stream rides on the first. One, as
    /// etcd's Go client: 16 calls in flight then reach etcd in fewer, fuller segments (half the member's
    /// reads of two connections) and, measured on 2 cores, at 10–40 % more puts per second; more help only
    /// where one event loop is the limit.
    public var connections = 1
    /// How long a connection holds its writes, while other calls await answers, to send them with the
    /// writes that follow those answers: etcd then reads several calls per wake-up (zero: each event-loop
    /// tick's writes leave at its end). Bounds the latency added to a call under load; none when idle.
    public var flushDelay: TimeAmount = .microseconds(100)

    public init(
        endpoints: [GRPCEndpoint], caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil
    ) {
        self.endpoints = endpoints
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    /// Parses `--etcd-servers`: comma-separated `http(s)://host:port` URLs.
    public static func parseServers(_ list: String) throws(EtcdConfigurationError) -> [GRPCEndpoint] {
        let urls = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !urls.isEmpty else { throw EtcdConfigurationError("--etcd-servers must specify at least one server") }
        return try urls.map { url throws(EtcdConfigurationError) in
            guard let endpoint = GRPCEndpoint(url: url) else {
                throw EtcdConfigurationError("invalid etcd server URL \"\(url)\": expected http(s)://host:port")
            }
            return endpoint
        }
    }

    /// The TLS context for https members: our certificate and key when given, the CA (else the system's roots).
    func makeTLSContext() throws -> NIOSSLContext? {
        guard endpoints.contains(where: \.secure) else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.applicationProtocols = ["h2"]
        if let caFile, !caFile.isEmpty {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        }
        if let certificateFile, !certificateFile.isEmpty, let keyFile, !keyFile.isEmpty {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
        }
        return try NIOSSLContext(configuration: tls)
    }
}

/// A bad `--etcd-*` setting.
public struct EtcdConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Where one proxied request goes: the address to dial, the name the backend's serving certificate must carry,
/// and how it is trusted (an APIService's `caBundle`, or no check with `insecureSkipTLSVerify`).
struct AggregatorBackend: Sendable, Equatable {
    var host: String
    var port: Int
    /// `<service>.<namespace>.svc`, as upstream's service resolver names the backend for TLS.
    var serverName: String
    var caBundle: [UInt8]?
    var insecureSkipTLSVerify: Bool

    /// `https://host:port`, as upstream's messages show the location.
    var origin: String { "https://\(host):\(port)" }

    /// The backend as the outbound client dials it.
    var target: OutboundTarget {
        OutboundTarget(
            host: host, port: port, serverName: serverName,
            trust: OutboundTrust(caBundle: caBundle, insecureSkipTLSVerify: insecureSkipTLSVerify))
    }
}

/// The aggregator's client to extension API servers: the shared `OutboundHTTPClient` speaking HTTP/1.1 and
/// presenting the `--proxy-client-cert-file` certificate; the response streams, so a watch lasts as long as
/// its reader does.
final class AggregatorTransport: Sendable {
    private let client: OutboundHTTPClient

    /// Reads the proxy client pair; nil files present no certificate (backends then see an anonymous proxy).
    init(
        certificateFile: String?, keyFile: String?,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        var chain: [NIOSSLCertificate] = []
        var key: NIOSSLPrivateKey?
        if let certificateFile, let keyFile {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        }
        client = OutboundHTTPClient(
            applicationProtocols: ["http/1.1"], certificateChain: chain, privateKey: key, group: group)
    }

    /// Sends `head` and `body` to `backend` and returns once the response head arrived (or fails, in Go's
    /// words). The body ends with the response; dropping it closes the connection. `timeout` bounds the wait
    /// for the head only.
    func send(_ head: HTTPRequestHead, body: [UInt8], to backend: AggregatorBackend, timeout: TimeAmount)
        async throws(OutboundFailure) -> OutboundResponse
    {
        let request = OutboundRequest(method: head.method, uri: head.uri, headers: head.headers, body: body)
        return try await client.send(request, to: backend.target, deadline: .now() + timeout)
    }
}

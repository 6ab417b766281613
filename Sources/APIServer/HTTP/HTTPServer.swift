import Logging
public import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
public import NIOSSL

/// TLS settings for the secure port.
public struct TLSSettings: Sendable {
    public var certificateChain: [NIOSSLCertificate]
    public var privateKey: NIOSSLPrivateKey
    /// CAs whose client certificates authenticate users; nil turns client certificates off.
    public var clientCA: [NIOSSLCertificate]?
    let clientVerifier: ClientCertificateVerifier?

    public init(certificateChain: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey, clientCA: [NIOSSLCertificate]?)
        throws
    {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.clientCA = clientCA
        self.clientVerifier = try clientCA.map { try ClientCertificateVerifier(caCertificates: $0) }
    }

    /// h2 and http/1.1 by ALPN; a client certificate is requested (the CA names are sent so clients pick
    /// the right one) and optional, so token clients get in too. `ClientCertificateVerifier` judges it.
    func serverConfiguration() -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificateChain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        if let clientCA {
            configuration.trustRoots = .certificates(clientCA)
            configuration.certificateVerification = .optionalVerification
            configuration.sendCANameList = true
        }
        configuration.applicationProtocols = ["h2", "http/1.1"]
        return configuration
    }
}

/// The HTTPS listener: TLS, then HTTP/1.1 or HTTP/2, then one `RequestHandler` per request stream.
public final class HTTPServer: Sendable {
    private let channel: any Channel
    public let localAddress: SocketAddress?

    private init(channel: any Channel) {
        self.channel = channel
        self.localAddress = channel.localAddress
    }

    /// Binds and starts serving; returns once the socket listens.
    public static func start(
        host: String, port: Int, tls: TLSSettings, responder: any HTTPResponder, group: any EventLoopGroup
    ) async throws -> HTTPServer {
        let context = try NIOSSLContext(configuration: tls.serverConfiguration())
        let verifier = tls.clientVerifier
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let identity = ConnectionIdentity()
                return channel.eventLoop.makeCompletedFuture {
                    let tlsHandler: NIOSSLServerHandler
                    if let verifier {
                        // Every certificate passes the handshake; the verdict is kept for the requests.
                        tlsHandler = NIOSSLServerHandler(context: context) { chain, promise in
                            promise.completeWithTask {
                                identity.record(await verifier.verify(chain: chain))
                                return .certificateVerified
                            }
                        }
                    } else {
                        tlsHandler = NIOSSLServerHandler(context: context)
                    }
                    try channel.pipeline.syncOperations.addHandler(tlsHandler)
                }.flatMap {
                    channel.configureCommonHTTPServerPipeline { streamChannel in
                        streamChannel.eventLoop.makeCompletedFuture {
                            try streamChannel.pipeline.syncOperations.addHandler(
                                RequestHandler(responder: responder, connection: identity))
                        }
                    }
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        return HTTPServer(channel: channel)
    }

    public func close() async throws {
        try await channel.close()
    }

    /// Completes when the listener closes.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }
}

public import APIMachinery
import Component
import HTTP2Streams
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

/// The API server's listener: TLS, the connection's flushes coalesced per event-loop tick
/// (`FlushCoalescingHandler`), then HTTP/1.1 or HTTP/2 by ALPN: a `RequestHandler` per HTTP/1.1 connection, an
/// `HTTP2ServerStream` per HTTP/2 stream;
/// or, for the plain local port, HTTP/1.1 without TLS.
public final class HTTPServer: Sendable {
    private let channel: any Channel
    public let localAddress: SocketAddress?
    /// What new connections get; nil on the plain port.
    public let tls: ServingTLS?
    let requests: InFlightRequests
    /// Follows the certificate files while the listener is open.
    private let following: Task<Void, Never>?

    private init(channel: any Channel, tls: ServingTLS?, requests: InFlightRequests) {
        self.channel = channel
        self.localAddress = channel.localAddress
        self.tls = tls
        self.requests = requests
        following = tls.map { tls in Task { await tls.followFiles() } }
    }

    /// Binds and starts serving `settings` as they are; returns once the socket listens.
    public static func start(
        host: String, port: Int, tls settings: TLSSettings, responder: any HTTPResponder, group: any EventLoopGroup,
        compressResponses: Bool = true, maxStreamsPerConnection: Int = HTTPServer.defaultMaxStreamsPerConnection
    ) async throws -> HTTPServer {
        let tls = try ServingTLS(settings: settings, logger: Logger(label: "kube-apiserver"))
        return try await start(
            host: host, port: port, tls: tls, responder: responder, group: group, compressResponses: compressResponses,
            maxStreamsPerConnection: maxStreamsPerConnection)
    }

    /// Upstream kube-apiserver's `--http2-max-streams-per-connection` default (its recommended serving options).
    public static let defaultMaxStreamsPerConnection = 1000

    /// HTTP/2 settings as upstream's server sends them: `maxStreams` concurrent streams, header lists up to its
    /// 1 MiB `MaxHeaderBytes`, and 256 KiB frames and per-stream windows, so most request bodies arrive in one
    /// frame without waiting for a window update.
    static func http2Configuration(maxStreams: Int) -> (
        connection: NIOHTTP2Handler.ConnectionConfiguration, stream: NIOHTTP2Handler.StreamConfiguration
    ) {
        let bodyFrame = 256 * 1024
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: maxStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: 1 << 20),
            HTTP2Setting(parameter: .maxFrameSize, value: bodyFrame),
            HTTP2Setting(parameter: .initialWindowSize, value: bodyFrame),
        ]
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.targetWindowSize = bodyFrame
        return (connection, stream)
    }

    /// Binds and starts serving; each connection gets `tls`'s pair of the moment it is accepted. Large
    /// responses are gzipped for clients that ask, unless `compressResponses` is off (`ResponseCompression`).
    public static func start(
        host: String, port: Int, tls: ServingTLS, responder: any HTTPResponder, group: any EventLoopGroup,
        compressResponses: Bool = true, maxStreamsPerConnection: Int = HTTPServer.defaultMaxStreamsPerConnection
    ) async throws -> HTTPServer {
        let requests = InFlightRequests()
        let compression = ResponseCompression(enabled: compressResponses)
        let http2 = http2Configuration(maxStreams: maxStreamsPerConnection)
        let bootstrap = serverBootstrap(group: group)
            .childChannelInitializer { channel in
                let identity = ConnectionIdentity(remoteAddress: channel.remoteAddress?.ipAddress ?? "")
                let serving = RequestServing(
                    responder: responder, connection: identity, requests: requests, fixedUser: nil,
                    compression: compression)
                requests.connectionOpened(channel)
                return channel.eventLoop.makeCompletedFuture {
                    let current = tls.current
                    let tlsHandler: NIOSSLServerHandler
                    if let verifier = current.settings.clientVerifier {
                        // Every certificate passes the handshake; the verdict is kept for the requests.
                        tlsHandler = NIOSSLServerHandler(context: current.context) { chain, promise in
                            promise.completeWithTask {
                                identity.record(await verifier.verify(chain: chain), chain: chain)
                                return .certificateVerified
                            }
                        }
                    } else {
                        tlsHandler = NIOSSLServerHandler(context: current.context)
                    }
                    try channel.pipeline.syncOperations.addHandlers(tlsHandler, FlushCoalescingHandler())
                }.flatMap {
                    channel.configureHTTP2SecureUpgrade(
                        h2ChannelConfigurator: { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try addHTTP2Handlers(to: channel, configuration: http2, serving: serving)
                            }
                        },
                        http1ChannelConfigurator: { channel in
                            channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                                try channel.pipeline.syncOperations.addHandler(RequestHandler(serving: serving))
                            }
                        })
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        return HTTPServer(channel: channel, tls: tls, requests: requests)
    }

    /// Binds the plain local port: HTTP/1.1 without TLS, every request served as `user` without authentication.
    public static func startPlain(
        host: String, port: Int, user: UserInfo, responder: any HTTPResponder, group: any EventLoopGroup,
        compressResponses: Bool = true
    ) async throws -> HTTPServer {
        let requests = InFlightRequests()
        let compression = ResponseCompression(enabled: compressResponses)
        let bootstrap = serverBootstrap(group: group)
            .childChannelInitializer { channel in
                requests.connectionOpened(channel)
                let serving = RequestServing(
                    responder: responder,
                    connection: ConnectionIdentity(remoteAddress: channel.remoteAddress?.ipAddress ?? ""),
                    requests: requests, fixedUser: user, compression: compression)
                return channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(serving: serving))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        return HTTPServer(channel: channel, tls: nil, requests: requests)
    }

    /// An HTTP/2 connection: NIO's HTTP/2 handler in frame mode, then one `HTTP2StreamTable` whose entries are
    /// the requests (`HTTP2ServerStream`), all on one task executor for the connection's loop. With NIO's
    /// multiplexer each request was a child channel with a pipeline of its own (codec, frame handler, request
    /// handler), whose set-up, activation, teardown and flushes were 10–15% of a small request's CPU.
    private static func addHTTP2Handlers(
        to channel: any Channel,
        configuration: (
            connection: NIOHTTP2Handler.ConnectionConfiguration, stream: NIOHTTP2Handler.StreamConfiguration
        ),
        serving: RequestServing
    ) throws {
        let executor = EventLoopTaskExecutor(channel.eventLoop)
        let table = HTTP2StreamTable(
            streamWindow: configuration.stream.targetWindowSize,
            connectionWindow: configuration.connection.targetWindowSize
        ) { id, table in
            HTTP2ServerStream(id: id, table: table, serving: serving, executor: executor)
        }
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(
            NIOHTTP2Handler(
                mode: .server, connectionConfiguration: configuration.connection,
                streamConfiguration: configuration.stream))
        try sync.addHandler(table)
    }

    private static func serverBootstrap(group: any EventLoopGroup) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
    }

    /// Closes the listener at once; open connections are left as they are.
    public func close() async throws {
        following?.cancel()
        try await channel.close()
    }

    /// Stops serving gracefully, as upstream's server does once the shutdown delay is over: the listener closes
    /// (new connections are refused), open connections are told to take no new requests, watches are given
    /// `watchGracePeriod` to end by themselves and are then ended cleanly, and requests being answered get
    /// `requestGracePeriod` to finish. Returns when nothing is in flight or the grace periods are over.
    public func shutdown(watchGracePeriod: Duration, requestGracePeriod: Duration) async {
        try? await close()
        requests.quiesce()
        let started = ContinuousClock.now
        await waitUntil(started + watchGracePeriod) { $0.streamCount == 0 }
        requests.endStreams()
        await waitUntil(started + max(watchGracePeriod, requestGracePeriod)) {
            $0.requestCount == 0 && $0.streamCount == 0
        }
    }

    /// Polls `done` until it holds or `deadline` passes. A shutdown happens once per process, so polling every
    /// few milliseconds costs nothing worth a notification mechanism.
    private func waitUntil(_ deadline: ContinuousClock.Instant, _ done: (InFlightRequests) -> Bool) async {
        while !done(requests), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Completes when the listener closes.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }
}

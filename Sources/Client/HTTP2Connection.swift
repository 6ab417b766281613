import Component
import NIOConcurrencyHelpers
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS

/// One TLS connection speaking HTTP/2, on which every request is a stream.
final class HTTP2Connection: PooledConnection {
    let channel: any Channel
    private let multiplexer: NIOHTTP2Handler.StreamMultiplexer
    private let goingAway: NIOLockedValueBox<Bool>

    private init(
        channel: any Channel, multiplexer: NIOHTTP2Handler.StreamMultiplexer, goingAway: NIOLockedValueBox<Bool>
    ) {
        self.channel = channel
        self.multiplexer = multiplexer
        self.goingAway = goingAway
    }

    /// False once the socket closed or the server sent GOAWAY; new streams then go to a new connection.
    var isUsable: Bool { channel.isActive && !goingAway.withLockedValue { $0 } }

    var eventLoop: any EventLoop { channel.eventLoop }

    var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Opens a stream carrying one request; its `StreamHandler` answers `response`.
    func openStream(
        headers: HPACKHeaders, body: ByteBuffer?, response: EventLoopPromise<Response>,
        consumer: (any StreamBodyConsumer)?, timeout: TimeAmount?
    ) -> EventLoopFuture<any Channel> {
        multiplexer.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandler(
                    StreamHandler(
                        headers: headers, body: body, response: response, consumer: consumer, timeout: timeout))
            }
        }
    }

    func close() {
        channel.close(promise: nil)
    }

    /// Our HTTP/2 settings: no server push, and receive windows large enough that a multi-megabyte
    /// LIST streams without waiting for a WINDOW_UPDATE round trip every 64 KiB.
    static let streamWindow = 4 << 20
    static let connectionWindow = 16 << 20

    /// Connects, handshakes TLS with ALPN "h2" and sets up HTTP/2; fails unless the server chose h2.
    static func connect(
        host: String, port: Int, serverHostname: String?, tls: NIOSSLContext, connectTimeout: TimeAmount,
        eventLoop: any EventLoop
    ) -> EventLoopFuture<HTTP2Connection> {
        let ready = eventLoop.makePromise(of: NIOHTTP2Handler.StreamMultiplexer.self)
        let goingAway = NIOLockedValueBox(false)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let monitor = ConnectionMonitor(ready: ready, goingAway: goingAway)
                    let alpn = ApplicationProtocolNegotiationHandler { result, channel in
                        guard case .negotiated("h2") = result else {
                            var name: String?
                            if case .negotiated(let other) = result { name = other }
                            ready.fail(ClientError.http2NotNegotiated(name))
                            return channel.close()
                        }
                        return channel.eventLoop.makeCompletedFuture {
                            let multiplexer = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                                mode: .client, connectionConfiguration: connectionConfiguration,
                                streamConfiguration: streamConfiguration, position: .before(monitor)
                            ) { pushed in pushed.close() }
                            ready.succeed(multiplexer)
                        }
                    }
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverHostname))
                    try sync.addHandler(FlushCoalescingHandler())
                    try sync.addHandler(alpn)
                    try sync.addHandler(monitor)
                }
            }
        return bootstrap.connect(host: host, port: port).flatMapErrorThrowing { error in
            // No channel, so no handler will ever complete `ready`; NIO traps on a promise left unfulfilled.
            ready.fail(error)
            throw error
        }.flatMap { channel in
            ready.futureResult.map { multiplexer in
                HTTP2Connection(channel: channel, multiplexer: multiplexer, goingAway: goingAway)
            }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }
        }
    }

    private static var connectionConfiguration: NIOHTTP2Handler.ConnectionConfiguration {
        var configuration = NIOHTTP2Handler.ConnectionConfiguration()
        configuration.initialSettings = [
            HTTP2Setting(parameter: .enablePush, value: 0),
            HTTP2Setting(parameter: .maxConcurrentStreams, value: 100),
            HTTP2Setting(parameter: .initialWindowSize, value: streamWindow),
            HTTP2Setting(parameter: .maxHeaderListSize, value: 1 << 16),
        ]
        configuration.targetWindowSize = connectionWindow
        return configuration
    }

    private static var streamConfiguration: NIOHTTP2Handler.StreamConfiguration {
        var configuration = NIOHTTP2Handler.StreamConfiguration()
        configuration.targetWindowSize = streamWindow
        return configuration
    }
}

/// Sits at the end of the connection pipeline: reports handshake and ALPN failures to whoever waits for
/// the connection, and notes GOAWAY so the pool stops opening streams here.
final class ConnectionMonitor: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTP2Frame

    private let ready: EventLoopPromise<NIOHTTP2Handler.StreamMultiplexer>
    private let goingAway: NIOLockedValueBox<Bool>

    init(ready: EventLoopPromise<NIOHTTP2Handler.StreamMultiplexer>, goingAway: NIOLockedValueBox<Bool>) {
        self.ready = ready
        self.goingAway = goingAway
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Only stream-0 frames reach here (SETTINGS, PING, GOAWAY); the multiplexer took the rest.
        if case .goAway = unwrapInboundIn(data).payload {
            goingAway.withLockedValue { $0 = true }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A failed handshake arrives here first; completing `ready` twice is a no-op in NIO.
        ready.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        goingAway.withLockedValue { $0 = true }
        ready.fail(ClientError.connectionClosed)
        context.fireChannelInactive()
    }
}

import Component
import HTTP2Streams
import NIOConcurrencyHelpers
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS

/// One TLS connection speaking HTTP/2, on which every request is a stream: an entry of the connection's
/// `HTTP2StreamTable` behind NIO's HTTP/2 handler, not a child channel with a pipeline of its own.
final class HTTP2Connection: PooledConnection {
    let channel: any Channel
    private let table: NIOLoopBound<HTTP2StreamTable>
    private let goingAway: NIOLockedValueBox<Bool>

    private init(channel: any Channel, table: NIOLoopBound<HTTP2StreamTable>, goingAway: NIOLockedValueBox<Bool>) {
        self.channel = channel
        self.table = table
        self.goingAway = goingAway
    }

    /// False once the socket closed, the server sent GOAWAY or the stream IDs ran out; new streams then go to a
    /// new connection.
    var isUsable: Bool { channel.isActive && !goingAway.withLockedValue { $0 } }

    var eventLoop: any EventLoop { channel.eventLoop }

    /// The first stream ID of the connections a task opens: tests start near the end of the ID space to see the
    /// IDs run out.
    @TaskLocal static var firstStreamID: Int32 = 1

    var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Opens a stream carrying one request (on the event loop, soon after this returns); its `StreamHandler`
    /// answers `response`, with `StreamNotOpened` when the stream could not open.
    func openStream(
        headers: HPACKHeaders, body: ByteBuffer?, response: EventLoopPromise<Response>,
        consumer: (any StreamBodyConsumer)?, timeout: TimeAmount?
    ) -> StreamCancelHandle {
        let eventLoop = channel.eventLoop
        let handler = NIOLoopBoundBox.makeBoxSendingValue(
            StreamHandler(headers: headers, body: body, response: response, consumer: consumer, timeout: timeout),
            eventLoop: eventLoop)
        let handle = StreamCancelHandle(handler: handler, eventLoop: eventLoop)
        consumer?.attach(to: handle)
        let table = self.table
        let goingAway = self.goingAway
        if eventLoop.inEventLoop {
            Self.open(handler.value, on: table.value, goingAway: goingAway)
        } else {
            eventLoop.execute { Self.open(handler.value, on: table.value, goingAway: goingAway) }
        }
        return handle
    }

    /// The streams open on the connection now (for tests: a finished or cancelled request leaves none behind).
    func openStreamCount() -> EventLoopFuture<Int> {
        let table = self.table
        return channel.eventLoop.submit { table.value.count }
    }

    private static func open(_ handler: StreamHandler, on table: HTTP2StreamTable, goingAway: NIOLockedValueBox<Bool>) {
        guard !handler.isFinished else { return }
        guard !goingAway.withLockedValue({ $0 }), let eventLoop = table.eventLoop, let id = table.open(handler) else {
            // Out of stream IDs, the connection takes no more requests: the pool connects afresh.
            if !table.hasStreamIDsLeft { goingAway.withLockedValue { $0 = true } }
            handler.notOpened(.connectionClosed)
            return
        }
        handler.start(.table(table, id), on: eventLoop)
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
        let ready = eventLoop.makePromise(of: NIOLoopBound<HTTP2StreamTable>.self)
        let goingAway = NIOLockedValueBox(false)
        let firstStreamID = Self.firstStreamID
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
                            let sync = channel.pipeline.syncOperations
                            try sync.addHandler(
                                NIOHTTP2Handler(mode: .client, connectionConfiguration: connectionConfiguration),
                                position: .before(monitor))
                            let table = HTTP2StreamTable(
                                streamWindow: streamWindow, connectionWindow: connectionWindow,
                                firstStreamID: firstStreamID)
                            try sync.addHandler(table, position: .before(monitor))
                            ready.succeed(NIOLoopBound(table, eventLoop: channel.eventLoop))
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
            ready.futureResult.map { table in
                HTTP2Connection(channel: channel, table: table, goingAway: goingAway)
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
}

/// Sits at the end of the connection pipeline: reports handshake and ALPN failures to whoever waits for
/// the connection, and notes GOAWAY so the pool stops opening streams here.
final class ConnectionMonitor: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTP2Frame

    private let ready: EventLoopPromise<NIOLoopBound<HTTP2StreamTable>>
    private let goingAway: NIOLockedValueBox<Bool>

    init(ready: EventLoopPromise<NIOLoopBound<HTTP2StreamTable>>, goingAway: NIOLockedValueBox<Bool>) {
        self.ready = ready
        self.goingAway = goingAway
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Only stream-0 frames reach here (SETTINGS, PING, GOAWAY); the stream table took the rest.
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

import HTTP2Streams
import NIOConcurrencyHelpers
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS

/// An etcd member's client URL: `http://host:port` (HTTP/2 without TLS) or `https://host:port`.
public struct GRPCEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var secure: Bool

    public init(host: String, port: Int, secure: Bool) {
        self.host = host
        self.port = port
        self.secure = secure
    }

    /// Parses `http(s)://host:port` as `--etcd-servers` lists them; a bare `host:port` is http, as in etcd's client.
    public init?(url: String) {
        var rest = Substring(url)
        var secure = false
        if rest.hasPrefix("https://") {
            secure = true
            rest = rest.dropFirst(8)
        } else if rest.hasPrefix("http://") {
            rest = rest.dropFirst(7)
        } else if rest.contains("://") {
            return nil
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = rest[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        self.init(host: String(host), port: port, secure: secure)
    }

    public var description: String { "\(secure ? "https" : "http")://\(host):\(port)" }
    var authority: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// One HTTP/2 connection to one etcd member; every call is a stream on it (`GRPCCalls`).
final class GRPCConnection: Sendable {
    let endpoint: GRPCEndpoint
    let channel: any Channel
    private let calls: NIOLoopBound<GRPCCalls>
    private let goingAway: NIOLockedValueBox<Bool>
    /// The fixed headers of the calls every request makes (Range, Txn), built once rather than per call.
    private let commonHeaders: [String: HPACKHeaders]

    private init(
        endpoint: GRPCEndpoint, channel: any Channel, calls: NIOLoopBound<GRPCCalls>,
        goingAway: NIOLockedValueBox<Bool>
    ) {
        self.endpoint = endpoint
        self.channel = channel
        self.calls = calls
        self.goingAway = goingAway
        commonHeaders = Dictionary(
            uniqueKeysWithValues: [EtcdStore.Method.range, EtcdStore.Method.txn].map {
                ($0, Self.fixedHeaders(path: $0, endpoint: endpoint))
            })
    }

    /// False once the socket closed or the server sent GOAWAY.
    var isUsable: Bool { channel.isActive && !goingAway.withLockedValue { $0 } }

    func close() { channel.close(promise: nil) }

    /// The headers of a call to `path` (`/etcdserverpb.KV/Range`); `grpc-timeout` carries the deadline.
    func headers(path: String, timeout: TimeAmount?, metadata: [(String, String)]) -> HPACKHeaders {
        var headers = commonHeaders[path] ?? Self.fixedHeaders(path: path, endpoint: endpoint)
        if let timeout {
            // grpc-timeout allows at most 8 digits; milliseconds cover 27 hours.
            headers.add(name: "grpc-timeout", value: "\(min(max(timeout.nanoseconds / 1_000_000, 1), 99_999_999))m")
        }
        for (name, value) in metadata { headers.add(name: name, value: value) }
        return headers
    }

    private static func fixedHeaders(path: String, endpoint: GRPCEndpoint) -> HPACKHeaders {
        [
            ":method": "POST", ":scheme": endpoint.secure ? "https" : "http", ":path": path,
            ":authority": endpoint.authority, "content-type": "application/grpc", "te": "trailers",
            "user-agent": "kubeswift-etcd-client",
        ]
    }

    /// Opens a stream for one call; `firstMessage` leaves with the headers, and messages sent through the
    /// returned handle later are framed and sent. A call that cannot start ends at once as unavailable.
    func openCall(
        path: String, unary: Bool, timeout: TimeAmount?, metadata: [(String, String)] = [],
        firstMessage: ByteBuffer? = nil, observer: any GRPCCallObserver
    ) -> GRPCCallStream {
        // Fixed before the header is written, so the member's deadline falls after ours.
        let deadline = timeout.map { NIODeadline.now() + $0 }
        let call = GRPCCall(
            headers: headers(path: path, timeout: timeout, metadata: metadata), halfCloseAfterFirstMessage: unary,
            deadline: deadline, observer: observer, firstMessage: firstMessage)
        let stream = GRPCCallStream(
            call: NIOLoopBoundBox.makeBoxSendingValue(call, eventLoop: channel.eventLoop), calls: calls)
        stream.start()
        return stream
    }

    /// Connects and sets up HTTP/2: with TLS and ALPN "h2" for https, with prior knowledge for http. The
    /// connection is ready once the member's SETTINGS arrive within `connectTimeout`, as in grpc-go, so a
    /// member that accepts TCP but does not answer (stopped, partitioned) is not taken for a live one.
    static func connect(
        to endpoint: GRPCEndpoint, tls: NIOSSLContext?, connectTimeout: TimeAmount, keepAlive: GRPCKeepAlive,
        flushDelay: TimeAmount = .zero, eventLoop: any EventLoop
    ) -> EventLoopFuture<GRPCConnection> {
        let ready = eventLoop.makePromise(of: NIOLoopBound<GRPCCalls>.self)
        let preface = eventLoop.makePromise(of: Void.self)
        let prefaceTimeout = eventLoop.scheduleTask(in: connectTimeout) {
            preface.fail(
                GRPCStatusError.unavailable("no HTTP/2 settings from \(endpoint) within \(connectTimeout)", sent: false)
            )
        }
        preface.futureResult.whenComplete { _ in prefaceTimeout.cancel() }
        let goingAway = NIOLockedValueBox(false)
        let activity = NIOLoopBoundBox.makeBoxSendingValue(GRPCConnectionActivity(), eventLoop: eventLoop)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let monitor = GRPCConnectionMonitor(ready: ready, preface: preface, goingAway: goingAway)
                    let sync = channel.pipeline.syncOperations
                    guard endpoint.secure else {
                        try sync.addHandler(monitor)
                        ready.succeed(
                            try Self.configureHTTP2(
                                channel, before: monitor, keepAlive: keepAlive, flushDelay: flushDelay,
                                activity: activity))
                        return
                    }
                    guard let tls else { throw GRPCStatusError.unavailable("https endpoint without TLS", sent: false) }
                    let alpn = ApplicationProtocolNegotiationHandler { result, channel in
                        channel.eventLoop.makeCompletedFuture {
                            // etcd negotiates h2; a server without ALPN is still spoken to in HTTP/2.
                            if case .negotiated(let other) = result, other != "h2" {
                                throw GRPCStatusError.unavailable("server chose \(other), not h2", sent: false)
                            }
                            ready.succeed(
                                try Self.configureHTTP2(
                                    channel, before: monitor, keepAlive: keepAlive, flushDelay: flushDelay,
                                    activity: activity))
                        }
                    }
                    let serverName = endpoint.host.first?.isNumber == true || endpoint.host.contains(":")
                    try sync.addHandler(
                        NIOSSLClientHandler(context: tls, serverHostname: serverName ? nil : endpoint.host))
                    try sync.addHandler(alpn)
                    try sync.addHandler(monitor)
                }
            }
        let connected = bootstrap.connect(host: endpoint.host, port: endpoint.port)
        // A refused connect never reaches the monitor that would fail `ready`; completing a promise twice is a
        // no-op in NIO, so failing both here is safe whatever the initializer got to.
        connected.whenFailure { error in
            preface.fail(error)
            ready.fail(error)
        }
        return connected.flatMap { channel in
            ready.futureResult.and(preface.futureResult).map { calls, _ in
                GRPCConnection(endpoint: endpoint, channel: channel, calls: calls, goingAway: goingAway)
            }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }
        }
    }

    /// Puts HTTP/2 (behind the flush coalescer) in front of the monitor, and the calls and the keepalive
    /// behind it.
    private static func configureHTTP2(
        _ channel: any Channel, before monitor: GRPCConnectionMonitor, keepAlive: GRPCKeepAlive,
        flushDelay: TimeAmount, activity: NIOLoopBoundBox<GRPCConnectionActivity>
    ) throws -> NIOLoopBound<GRPCCalls> {
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(
            GRPCFlushCoalescer(delay: flushDelay, activity: activity.value), position: .before(monitor))
        try sync.addHandler(
            NIOHTTP2Handler(mode: .client, connectionConfiguration: connectionConfiguration), position: .before(monitor)
        )
        // The keepalive behind sees every frame: any read shows the member is alive.
        let table = HTTP2StreamTable(
            streamWindow: streamWindow, connectionWindow: connectionWindow, forwardsStreamFrames: true)
        try sync.addHandler(table)
        try sync.addHandler(GRPCKeepAliveHandler(keepAlive, goingAway: monitor.goingAway, activity: activity.value))
        let calls = GRPCCalls(table: table, activity: activity.value, goingAway: monitor.goingAway)
        return NIOLoopBound(calls, eventLoop: channel.eventLoop)
    }

    /// Large windows so a big range answer streams without a WINDOW_UPDATE round trip per 64 KiB.
    static let streamWindow = 4 << 20
    static let connectionWindow = 16 << 20

    /// etcd's grpc-go server sends a PING (for its flow-control window estimate) with every burst of
    /// requests it reads, far above swift-nio-http2's default of 200 control frames per 30 s, which
    /// would answer with GOAWAY ENHANCE_YOUR_CALM after ~200 calls (shared/DESIGN.md §6).
    static let controlFramesPerWindow = 1_000_000

    private static var connectionConfiguration: NIOHTTP2Handler.ConnectionConfiguration {
        var configuration = NIOHTTP2Handler.ConnectionConfiguration()
        configuration.initialSettings = [
            HTTP2Setting(parameter: .enablePush, value: 0),
            HTTP2Setting(parameter: .initialWindowSize, value: streamWindow),
            HTTP2Setting(parameter: .maxHeaderListSize, value: 1 << 16),
        ]
        configuration.controlFrameRateLimit.maximumCount = controlFramesPerWindow
        return configuration
    }
}

/// How the connection checks that its member is still there: HTTP/2 PINGs, as grpc-go's keepalive.
struct GRPCKeepAlive: Sendable {
    /// Silence (no frame read) while calls are open after which a PING is sent.
    var time: TimeAmount
    /// How long the PING's ACK may take before the connection is closed.
    var timeout: TimeAmount
}

/// What the keepalive and the flush coalescer need to know of a connection's calls; confined to the connection's event loop,
/// shared by its stream handlers (which note reads) and its monitor (which pings).
final class GRPCConnectionActivity {
    var openCalls = 0
    /// Unary calls sent and not yet answered: each answer is likely to be followed by another call.
    var callsAwaitingAnswers = 0
    var lastRead = NIODeadline.now()
}

/// Behind the HTTP/2 handler: fails the connect on TLS errors, learns the member's first SETTINGS (the
/// connection is then ready), notes GOAWAY and close, after which calls go to a new connection.
final class GRPCConnectionMonitor: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTP2Frame

    private let ready: EventLoopPromise<NIOLoopBound<GRPCCalls>>
    private let preface: EventLoopPromise<Void>
    let goingAway: NIOLockedValueBox<Bool>

    init(
        ready: EventLoopPromise<NIOLoopBound<GRPCCalls>>, preface: EventLoopPromise<Void>,
        goingAway: NIOLockedValueBox<Bool>
    ) {
        self.ready = ready
        self.preface = preface
        self.goingAway = goingAway
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data).payload {
        case .goAway: goingAway.withLockedValue { $0 = true }
        case .settings(.settings): preface.succeed(())
        default: break
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A stream's error is its call's alone: the stream table behind ends that call.
        if error is NIOHTTP2Errors.StreamError { return context.fireErrorCaught(error) }
        ready.fail(GRPCStatusError.unavailable("\(error)", sent: false))
        preface.fail(GRPCStatusError.unavailable("\(error)", sent: false))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        goingAway.withLockedValue { $0 = true }
        ready.fail(GRPCStatusError.unavailable("connection closed", sent: false))
        preface.fail(GRPCStatusError.unavailable("connection closed", sent: false))
        context.fireChannelInactive()
    }
}

/// At the end of the connection pipeline: pings a member that has gone quiet while calls wait on it, and
/// closes the connection when the PING is not acknowledged in time, so a stopped or partitioned member
/// is left for the next one (its calls fail as unavailable and are retried there; watches resume there).
final class GRPCKeepAliveHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private let keepAlive: GRPCKeepAlive
    private let goingAway: NIOLockedValueBox<Bool>
    private let activity: GRPCConnectionActivity
    private var tick: Scheduled<Void>?
    /// The payload and deadline of the PING awaiting its ACK.
    private var outstandingPing: (data: HTTP2PingData, deadline: NIODeadline)?
    private var pings: UInt64 = 0

    init(_ keepAlive: GRPCKeepAlive, goingAway: NIOLockedValueBox<Bool>, activity: GRPCConnectionActivity) {
        self.keepAlive = keepAlive
        self.goingAway = goingAway
        self.activity = activity
    }

    func handlerAdded(context: ChannelHandlerContext) { scheduleCheck(context: context) }

    func handlerRemoved(context: ChannelHandlerContext) {
        tick?.cancel()
        tick = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Every frame: the stream table in front passes them all on.
        activity.lastRead = .now()
        if case .ping(let data, ack: true) = unwrapInboundIn(data).payload, outstandingPing?.data == data {
            outstandingPing = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        tick?.cancel()
        tick = nil
        context.fireChannelInactive()
    }

    /// Checks a few times per keepalive period: cheap, and detection stays within about time + timeout.
    private func scheduleCheck(context: ChannelHandlerContext) {
        let interval = TimeAmount.nanoseconds(max(keepAlive.time.nanoseconds / 5, 100_000_000))
        tick = context.eventLoop.assumeIsolated().scheduleTask(in: interval) { [self] in
            guard context.channel.isActive else { return }
            check(context: context)
            scheduleCheck(context: context)
        }
    }

    private func check(context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        if let ping = outstandingPing {
            guard now >= ping.deadline else { return }
            outstandingPing = nil
            goingAway.withLockedValue { $0 = true }
            context.close(promise: nil)
            return
        }
        // Pings only while calls wait, and only after `time` of silence (an ACK is a read too), so they
        // are never closer than `time` and etcd's ping policy has nothing to object to.
        guard activity.openCalls > 0, now - activity.lastRead >= keepAlive.time else { return }
        pings += 1
        let data = HTTP2PingData(withInteger: pings)
        outstandingPing = (data, now + keepAlive.timeout)
        context.writeAndFlush(
            wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .ping(data, ack: false))), promise: nil)
    }
}

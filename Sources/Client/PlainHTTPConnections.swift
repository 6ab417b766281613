import HTTP2Streams
import NIOConcurrencyHelpers
import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2
import NIOPosix

/// Plain HTTP/1.1 over TCP to one server, what Go's client speaks to an `http://` URL such as the guide era's
/// `--master=http://127.0.0.1:8080` (the API server's `--insecure-port`). A connection carries one request at a
/// time; one whose buffered response was read to its end goes back to an idle list for the next request (up to
/// client-go's 25 idle connections per host), while a watch's connection is closed when its stream ends, since
/// ending a watch early means closing the socket.
final class PlainHTTPConnections: PooledConnection {
    let eventLoop: any EventLoop
    private let host: String
    private let port: Int
    private let connectTimeout: TimeAmount
    private let closed: EventLoopPromise<Void>
    private let state = NIOLockedValueBox(State())

    private struct State {
        /// Connections waiting for a request, most recently used last.
        var idle: [any Channel] = []
        /// Every open connection, idle or busy, so `close()` reaches them all.
        var open: [ObjectIdentifier: any Channel] = [:]
        var isClosed = false
    }

    /// client-go's `MaxIdleConnsPerHost`.
    static let maximumIdle = 25

    init(host: String, port: Int, connectTimeout: TimeAmount, eventLoop: any EventLoop) {
        self.host = host
        self.port = port
        self.connectTimeout = connectTimeout
        self.eventLoop = eventLoop
        closed = eventLoop.makePromise()
    }

    var isUsable: Bool { !state.withLockedValue { $0.isClosed } }

    var closeFuture: EventLoopFuture<Void> { closed.futureResult }

    /// Connections open now, idle or busy (for tests).
    var openCount: Int { state.withLockedValue { $0.open.count } }

    func openStream(
        headers: HPACKHeaders, body: ByteBuffer?, response: EventLoopPromise<Response>,
        consumer: (any StreamBodyConsumer)?, timeout: TimeAmount?
    ) -> StreamCancelHandle {
        let reusable = consumer == nil
        let handler = NIOLoopBoundBox.makeBoxSendingValue(
            StreamHandler(headers: headers, body: body, response: response, consumer: consumer, timeout: timeout),
            eventLoop: eventLoop)
        let handle = StreamCancelHandle(handler: handler, eventLoop: eventLoop)
        consumer?.attach(to: handle)
        // Every connection is on `eventLoop`, so this runs there, as the handler needs.
        channel().whenComplete { result in
            switch result {
            case .failure(let error):
                handler.value.notOpened(error as? ClientError ?? .connectionClosed)
            case .success(let channel):
                self.begin(handler.value, on: channel, reusable: reusable)
            }
        }
        return handle
    }

    private func begin(_ handler: StreamHandler, on channel: any Channel, reusable: Bool) {
        // Cancelled while the connection was being found: the connection was never used.
        guard !handler.isFinished else { return release(channel) }
        let pipeline = channel.pipeline.syncOperations
        do {
            try pipeline.handler(type: HTTP1FrameAdapter.self).begin { keepAlive in
                pipeline.removeHandler(handler, promise: nil)
                if keepAlive && reusable {
                    self.release(channel)
                } else {
                    channel.close(promise: nil)
                }
            }
            // Adding it sends the request (`handlerAdded`).
            try pipeline.addHandler(handler)
        } catch {
            handler.notOpened(.connectionClosed)
            channel.close(promise: nil)
        }
    }

    /// Closes every connection; `closeFuture` completes once they all have.
    func close() {
        let channels = state.withLockedValue { state -> [any Channel] in
            state.isClosed = true
            state.idle = []
            return Array(state.open.values)
        }
        for channel in channels { channel.close(promise: nil) }
        EventLoopFuture.andAllComplete(channels.map(\.closeFuture), on: eventLoop).cascade(to: closed)
    }

    /// An idle connection still open, or a new one.
    private func channel() -> EventLoopFuture<any Channel> {
        enum Decision {
            case reuse(any Channel)
            case connect
            case closed
        }
        let decision = state.withLockedValue { state -> Decision in
            guard !state.isClosed else { return .closed }
            while let channel = state.idle.popLast() {
                if channel.isActive { return .reuse(channel) }
            }
            return .connect
        }
        switch decision {
        case .reuse(let channel): return channel.eventLoop.makeSucceededFuture(channel)
        case .closed: return eventLoop.makeFailedFuture(ClientError.shutdown)
        case .connect: break
        }
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HTTP1FrameAdapter())
                }
            }
            .connect(host: host, port: port)
            .flatMapThrowing { channel in
                let admitted = self.state.withLockedValue { state in
                    guard !state.isClosed else { return false }
                    state.open[ObjectIdentifier(channel)] = channel
                    return true
                }
                guard admitted else {
                    channel.close(promise: nil)
                    throw ClientError.shutdown
                }
                channel.closeFuture.whenComplete { _ in self.forget(channel) }
                return channel
            }
    }

    /// A connection whose response ended with keep-alive takes the next request, unless enough wait already.
    private func release(_ channel: any Channel) {
        let kept = state.withLockedValue { state in
            guard !state.isClosed, channel.isActive, state.idle.count < Self.maximumIdle else { return false }
            state.idle.append(channel)
            return true
        }
        if !kept { channel.close(promise: nil) }
    }

    private func forget(_ channel: any Channel) {
        state.withLockedValue { state in
            state.open[ObjectIdentifier(channel)] = nil
            state.idle.removeAll { $0 === channel }
        }
    }
}

/// Lets a `StreamHandler`, which speaks HTTP/2 frame payloads, run one request at a time over HTTP/1.1: the
/// request's HEADERS and DATA become a request head, body and end; the response's head, body and end come back
/// as HEADERS (with `:status`) and DATA, the last one ending the stream.
final class HTTP1FrameAdapter: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTPClientRequestPart

    /// Connection-level fields HTTP/2 has no place for.
    private static let hopByHop: Set<String> = ["connection", "keep-alive", "transfer-encoding", "upgrade"]

    /// Set while a request is out: told, once its response ended, whether the connection may be reused.
    private var onResponseEnd: ((_ keepAlive: Bool) -> Void)?
    private var keepAlive = true

    /// Starts a request on this connection.
    func begin(onResponseEnd: @escaping (_ keepAlive: Bool) -> Void) {
        self.onResponseEnd = onResponseEnd
        keepAlive = true
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .headers(let frame):
            var method = HTTPMethod.GET
            var target = "/"
            var fields = HTTPHeaders()
            for (name, value, _) in frame.headers {
                switch name {
                case ":method": method = HTTPMethod(rawValue: value)
                case ":path": target = value
                case ":authority": fields.replaceOrAdd(name: "host", value: value)
                case _ where name.hasPrefix(":"): continue
                default: fields.add(name: name, value: value)
                }
            }
            let head = HTTPRequestHead(version: .http1_1, method: method, uri: target, headers: fields)
            context.write(wrapOutboundOut(.head(head)), promise: frame.endStream ? nil : promise)
            if frame.endStream { context.write(wrapOutboundOut(.end(nil)), promise: promise) }
        case .data(let frame):
            guard case .byteBuffer(let buffer) = frame.data else {
                promise?.fail(ClientError.invalidConfiguration("a file region cannot be sent as a request body"))
                return
            }
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: frame.endStream ? nil : promise)
            if frame.endStream { context.write(wrapOutboundOut(.end(nil)), promise: promise) }
        default:
            // RST_STREAM and the like have no HTTP/1.1 form; a cancelled request closes the connection instead.
            promise?.succeed(())
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard onResponseEnd != nil else {
            // Bytes on an idle connection answer nothing we asked: drop the connection rather than guess.
            context.close(promise: nil)
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            keepAlive = head.isKeepAlive
            var headers = HPACKHeaders()
            headers.add(name: ":status", value: String(head.status.code))
            for (name, value) in head.headers {
                let lowered = name.lowercased()
                if !Self.hopByHop.contains(lowered) { headers.add(name: lowered, value: value) }
            }
            context.fireChannelRead(wrapInboundOut(.headers(.init(headers: headers))))
        case .body(let buffer):
            context.fireChannelRead(wrapInboundOut(.data(.init(data: .byteBuffer(buffer)))))
        case .end:
            context.fireChannelRead(wrapInboundOut(.data(.init(data: .byteBuffer(ByteBuffer()), endStream: true))))
            let finished = onResponseEnd
            onResponseEnd = nil
            finished?(keepAlive)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // With a request out, its StreamHandler reports the error; an idle connection just goes.
        if onResponseEnd != nil {
            context.fireErrorCaught(error)
        } else {
            context.close(promise: nil)
        }
    }
}

/// On plain HTTP/1.1 a request's handler sits in its connection's pipeline behind the `HTTP1FrameAdapter`, which
/// takes it out once its response ended.
extension StreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    func handlerAdded(context: ChannelHandlerContext) {
        start(.channel(context), on: context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Removed after its response ended, or torn down with the connection: nothing may stay unanswered.
        terminated(.connectionClosed)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        receive(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        terminated(.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        abandon(.invalidResponse("\(error)"))
        context.close(promise: nil)
    }
}

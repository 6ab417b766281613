public import NIOCore
public import NIOHTTP2

/// One stream of an `HTTP2StreamTable`, called on the connection's event loop.
public protocol HTTP2TableStream: AnyObject {
    /// A frame of this stream: HEADERS, DATA or RST_STREAM (window updates are the table's).
    func receive(_ payload: HTTP2Frame.FramePayload)
    /// The stream ended without its owner forgetting it first; the table has already forgotten it.
    func terminated(_ reason: HTTP2StreamTermination)
}

/// Why a stream left the table without its owner removing it.
public enum HTTP2StreamTermination: Sendable {
    /// The HTTP/2 layer closed it: both sides ended it (nil), or it was reset or refused (the code).
    case closed(HTTP2ErrorCode?)
    /// The HTTP/2 layer found a protocol error on this stream alone.
    case streamError(any Error)
    /// The connection closed under it.
    case connectionClosed
}

/// Behind NIO's HTTP/2 handler (in its frame mode, without a stream multiplexer), every stream of the connection
/// is an entry in one table keyed by stream ID, and its frames go straight to it. With NIO's multiplexer each
/// stream is a child channel with a pipeline of its own: per small request, setting that up, activating it and
/// tearing it down cost about as much as the request's frames. Clients open streams here (`open`); servers are
/// offered each stream a peer opens (`accept`). Inbound flow control is done here as NIO's multiplexer does it:
/// a window that has fallen to half its target gets one WINDOW_UPDATE back to the target (data is consumed as it
/// arrives). Confined to the connection's event loop.
public final class HTTP2StreamTable: ChannelInboundHandler {
    public typealias InboundIn = HTTP2Frame
    public typealias InboundOut = HTTP2Frame
    public typealias OutboundOut = HTTP2Frame

    /// Offered the first HEADERS of a stream the peer opened; nil refuses it (RST_STREAM REFUSED_STREAM).
    public typealias Acceptor = (HTTP2StreamID, HTTP2StreamTable) -> (any HTTP2TableStream)?

    private let streamWindow: Int
    private let connectionWindow: Int
    private let accept: Acceptor?
    private let forwardsStreamFrames: Bool
    private var context: ChannelHandlerContext?
    private var streams: [HTTP2StreamID: any HTTP2TableStream] = [:]
    /// Client streams are odd and rise; when they run out the connection must be replaced.
    private var nextStreamID: Int32 = 1

    /// - Parameters:
    ///   - streamWindow, connectionWindow: the receive windows to keep topped up (the SETTINGS and
    ///     connection target the HTTP/2 handler was given).
    ///   - accept: for a server, makes the stream for each one the peer opens.
    ///   - forwardsStreamFrames: pass streams' frames on down the pipeline too (a keepalive that notes every
    ///     read); connection frames (SETTINGS, PING, GOAWAY) always go on.
    ///   - firstStreamID: the ID `open` gives first (odd); tests start near the end of the ID space.
    public init(
        streamWindow: Int, connectionWindow: Int, accept: Acceptor? = nil, forwardsStreamFrames: Bool = false,
        firstStreamID: Int32 = 1
    ) {
        self.streamWindow = streamWindow
        self.connectionWindow = connectionWindow
        self.accept = accept
        self.forwardsStreamFrames = forwardsStreamFrames
        self.nextStreamID = firstStreamID
    }

    public func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    public func handlerRemoved(context: ChannelHandlerContext) {
        terminateAll()
        self.context = nil
    }

    /// Whether the connection can carry a new stream.
    public var isActive: Bool { context?.channel.isActive ?? false }

    /// The number of streams in the table.
    public var count: Int { streams.count }

    public var eventLoop: (any EventLoop)? { context?.eventLoop }

    public var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }

    /// Enters a stream of ours under the next client stream ID; nil when the connection is closed or out of IDs.
    /// Its HEADERS must be the next frame written, since IDs must rise in the order streams open.
    public func open(_ stream: any HTTP2TableStream) -> HTTP2StreamID? {
        guard isActive, hasStreamIDsLeft else { return nil }
        let id = HTTP2StreamID(Int(nextStreamID))
        nextStreamID += 2
        streams[id] = stream
        return id
    }

    /// Whether stream IDs are left for `open` on this connection.
    public var hasStreamIDsLeft: Bool { nextStreamID < Int32.max - 1 }

    /// Writes one frame of a stream; it leaves at the next `flush`.
    public func write(_ payload: HTTP2Frame.FramePayload, on id: HTTP2StreamID, promise: EventLoopPromise<Void>? = nil)
    {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        context.write(wrapOutboundOut(HTTP2Frame(streamID: id, payload: payload)), promise: promise)
    }

    public func flush() { context?.flush() }

    /// Forgets a stream its owner has finished with; later frames for it are dropped.
    public func forget(_ id: HTTP2StreamID) { streams[id] = nil }

    /// Forgets a stream and resets it with `code`, as when its owner abandons it before both sides ended it.
    public func reset(_ id: HTTP2StreamID, code: HTTP2ErrorCode = .cancel) {
        streams[id] = nil
        guard let context, context.channel.isActive else { return }
        context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: id, payload: .rstStream(code))), promise: nil)
    }

    private func terminateAll() {
        let ended = streams
        streams.removeAll()
        for stream in ended.values { stream.terminated(.connectionClosed) }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let id = frame.streamID
        guard id != .rootStream else { return context.fireChannelRead(data) }
        if let stream = streams[id] {
            stream.receive(frame.payload)
        } else if let accept, case .headers = frame.payload {
            if let stream = accept(id, self) {
                streams[id] = stream
                stream.receive(frame.payload)
            } else {
                reset(id, code: .refusedStream)
            }
        }
        if forwardsStreamFrames { context.fireChannelRead(data) }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? NIOHTTP2WindowUpdatedEvent, let window = event.inboundWindowSize {
            let target = event.streamID == .rootStream ? connectionWindow : streamWindow
            if window <= target / 2, event.streamID == .rootStream || streams[event.streamID] != nil {
                let update = HTTP2Frame(
                    streamID: event.streamID, payload: .windowUpdate(windowSizeIncrement: target - window))
                context.writeAndFlush(wrapOutboundOut(update), promise: nil)
            }
        } else if let event = event as? StreamClosedEvent, let stream = streams.removeValue(forKey: event.streamID) {
            stream.terminated(.closed(event.reason))
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A stream's error ends that stream alone; the connection's go on to whoever handles them.
        if let error = error as? NIOHTTP2Errors.StreamError {
            if let stream = streams.removeValue(forKey: error.streamID) {
                stream.terminated(.streamError(error.baseError))
            }
            return
        }
        context.fireErrorCaught(error)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        terminateAll()
        context.fireChannelInactive()
    }
}

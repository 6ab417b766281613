import NIOCore
import NIOHPACK
import NIOHTTP2

/// Learns what happens on one call; called on the stream's event loop.
protocol GRPCCallObserver: AnyObject, Sendable {
    /// One complete response message.
    func received(_ message: ByteBuffer)
    /// The call ended: nil for `grpc-status: 0`, else the status. Called exactly once.
    func finished(_ error: GRPCStatusError?)
}

/// One gRPC call on one HTTP/2 stream. Request messages are written to the stream channel as
/// `ByteBuffer`s (the handler frames them); the last one ends the request stream when the call is
/// unary (`halfCloseAfterFirstMessage`). A call's first message may come with the handler, so HEADERS
/// and DATA leave in one flush, as grpc-go's writer sends them. Responses are deframed and passed to
/// the observer; the status comes from the trailers, or from the headers of a trailers-only answer.
final class GRPCCallHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = HTTP2Frame.FramePayload

    private let headers: HPACKHeaders
    private let halfCloseAfterFirstMessage: Bool
    private let timeout: TimeAmount?
    private let observer: any GRPCCallObserver
    /// The first request message, sent with the headers.
    private var firstMessage: ByteBuffer?
    private var reader = GRPCMessageReader()
    private var headersSent = false
    private var responseHeadersSeen = false
    private var requestSent = false
    /// Whether our side of the stream is closed (END_STREAM sent) and whether the member's is.
    private var requestEnded = false
    private var responseEnded = false
    private var finished = false
    private var timeoutTask: Scheduled<Void>?
    /// The connection's keepalive record: this call counts as open until it finishes, and its reads
    /// show the member is alive.
    private let activity: GRPCConnectionActivity?

    init(
        headers: HPACKHeaders, halfCloseAfterFirstMessage: Bool, timeout: TimeAmount?, observer: any GRPCCallObserver,
        firstMessage: ByteBuffer? = nil, activity: GRPCConnectionActivity? = nil
    ) {
        self.headers = headers
        self.firstMessage = firstMessage
        self.halfCloseAfterFirstMessage = halfCloseAfterFirstMessage
        self.timeout = timeout
        self.observer = observer
        self.activity = activity
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if let activity {
            // The first call after a quiet spell starts the silence clock: no PING for an idle gap.
            if activity.openCalls == 0 { activity.lastRead = .now() }
            activity.openCalls += 1
            if halfCloseAfterFirstMessage { activity.callsAwaitingAnswers += 1 }
        }
        if let timeout {
            timeoutTask = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                self.finish(
                    GRPCStatusError(code: .deadlineExceeded, message: "context deadline exceeded"), context: context)
            }
        }
        if context.channel.isActive { sendHeaders(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        sendHeaders(context: context)
        context.fireChannelActive()
    }

    /// Sends the headers once, with the first message when the call came with one, in a single flush.
    private func sendHeaders(context: ChannelHandlerContext) {
        guard !headersSent else { return }
        headersSent = true
        context.write(wrapOutboundOut(.headers(.init(headers: headers))), promise: nil)
        if let message = firstMessage {
            firstMessage = nil
            writeMessage(message, context: context, promise: nil)
        }
        context.flush()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !finished, !requestEnded else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        sendHeaders(context: context)
        writeMessage(unwrapOutboundIn(data), context: context, promise: promise)
    }

    private func writeMessage(_ message: ByteBuffer, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        let framed = GRPCFraming.frame(message, allocator: context.channel.allocator)
        let end = halfCloseAfterFirstMessage
        requestSent = true
        requestEnded = end
        context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(framed), endStream: end))), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        activity?.lastRead = .now()
        guard !finished else { return }
        let payload = unwrapInboundIn(data)
        switch payload {
        case .headers(let frame): responseEnded = frame.endStream
        case .data(let frame): responseEnded = frame.endStream
        default: break
        }
        switch payload {
        case .headers(let frame):
            if !responseHeadersSeen {
                responseHeadersSeen = true
                let status = frame.headers.first(name: ":status")
                guard status == "200" else {
                    // An HTTP error before gRPC started, e.g. a proxy; grpc-go maps these codes the same way.
                    let code: GRPCStatusCode =
                        switch status {
                        case "400": .internal
                        case "401": .unauthenticated
                        case "403": .permissionDenied
                        case "404": .unimplemented
                        case "429", "502", "503", "504": .unavailable
                        default: .unknown
                        }
                    finish(
                        GRPCStatusError(code: code, message: "unexpected HTTP status \(status ?? "none")"),
                        context: context)
                    return
                }
                if frame.endStream { finish(Self.status(from: frame.headers), context: context) }
            } else {
                finish(Self.status(from: frame.headers), context: context)
            }
        case .data(let frame):
            guard case .byteBuffer(let bytes) = frame.data else { return }
            do {
                for message in try reader.append(bytes) { observer.received(message) }
            } catch {
                finish(error, context: context)
                return
            }
            if frame.endStream {
                finish(GRPCStatusError(code: .internal, message: "stream ended without trailers"), context: context)
            }
        case .rstStream(let code):
            let status: GRPCStatusCode = code == .refusedStream ? .unavailable : .internal
            finish(
                GRPCStatusError(code: status, message: "stream terminated by RST_STREAM with error code: \(code)"),
                context: context)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.unavailable("error reading from server: connection closed", sent: requestSent), context: context)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(.unavailable("connection closed", sent: requestSent), context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.unavailable("\(error)", sent: requestSent), context: context)
    }

    /// Ends the call once: tells the observer and closes the stream. A stream that both sides ended is
    /// already closed in HTTP/2 and closes its channel by itself; closing it here would send the member
    /// a needless RST_STREAM for every call.
    private func finish(_ error: GRPCStatusError?, context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        activity?.openCalls -= 1
        if halfCloseAfterFirstMessage { activity?.callsAwaitingAnswers -= 1 }
        timeoutTask?.cancel()
        timeoutTask = nil
        observer.finished(error)
        if context.channel.isActive, !(requestEnded && responseEnded) { context.close(promise: nil) }
    }

    /// Reads `grpc-status` and `grpc-message`; a missing status is an internal error, as in grpc-go.
    static func status(from trailers: HPACKHeaders) -> GRPCStatusError? {
        guard let text = trailers.first(name: "grpc-status"), let value = Int(text) else {
            return GRPCStatusError(code: .internal, message: "server closed the stream without sending trailers")
        }
        if value == 0 { return nil }
        let message = GRPCStatusError.decodeMessage(trailers.first(name: "grpc-message") ?? "")
        return GRPCStatusError(code: GRPCStatusCode(rawValue: value) ?? .unknown, message: message)
    }
}

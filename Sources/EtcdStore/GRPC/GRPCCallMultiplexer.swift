import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP2

/// Behind the HTTP/2 handler, the connection's calls, one stream each, kept in a table by stream ID. A call
/// costs a table entry and its frames, not a child channel with a pipeline of its own as with NIO's stream
/// multiplexer: per etcd request that set-up, activation and teardown cost about as much as the frames.
/// Flow control of the member's DATA is done here as NIO's multiplexer does it: a window that has fallen to
/// half its target is topped up with one WINDOW_UPDATE (messages are consumed as they arrive).
final class GRPCCallMultiplexer: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private let activity: GRPCConnectionActivity
    private let goingAway: NIOLockedValueBox<Bool>
    private let streamWindow: Int
    private let connectionWindow: Int
    private var context: ChannelHandlerContext?
    private var calls: [HTTP2StreamID: GRPCCall] = [:]
    /// Client streams are odd and rise; when they run out the connection is retired for a new one.
    private var nextStreamID: Int32 = 1

    init(
        activity: GRPCConnectionActivity, goingAway: NIOLockedValueBox<Bool>, streamWindow: Int, connectionWindow: Int
    ) {
        self.activity = activity
        self.goingAway = goingAway
        self.streamWindow = streamWindow
        self.connectionWindow = connectionWindow
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(.unavailable("connection closed", sent: true))
        self.context = nil
    }

    /// Opens the call's stream: HEADERS and the first message (if any) leave in one flush.
    func start(_ call: GRPCCall) {
        guard let context, context.channel.isActive, !goingAway.withLockedValue({ $0 }) else {
            _ = call.finish(.unavailable("connection closed", sent: false))
            return
        }
        guard nextStreamID < Int32.max - 1 else {
            goingAway.withLockedValue { $0 = true }
            _ = call.finish(.unavailable("connection ran out of stream IDs", sent: false))
            return
        }
        let id = HTTP2StreamID(Int(nextStreamID))
        nextStreamID += 2
        call.streamID = id
        calls[id] = call
        // The first call after a quiet spell starts the silence clock: no PING for an idle gap.
        if activity.openCalls == 0 { activity.lastRead = .now() }
        activity.openCalls += 1
        if call.halfCloseAfterFirstMessage { activity.callsAwaitingAnswers += 1 }
        if let timeout = call.timeout {
            call.timeoutTask = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
                end(call, GRPCStatusError(code: .deadlineExceeded, message: "context deadline exceeded"))
            }
        }
        context.write(
            wrapOutboundOut(HTTP2Frame(streamID: id, payload: .headers(.init(headers: call.headers)))), promise: nil)
        if let message = call.firstMessage {
            call.firstMessage = nil
            if let payload = call.frame(message, allocator: context.channel.allocator) {
                context.write(wrapOutboundOut(HTTP2Frame(streamID: id, payload: payload)), promise: nil)
            }
        }
        context.flush()
    }

    /// Sends a later request message of a streaming call; dropped once the call has ended.
    func send(_ message: ByteBuffer, on call: GRPCCall) {
        guard let context, let id = call.streamID,
            let payload = call.frame(message, allocator: context.channel.allocator)
        else { return }
        context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: id, payload: payload)), promise: nil)
    }

    /// Abandons a call: the observer learns it was cancelled, the member gets RST_STREAM.
    func cancel(_ call: GRPCCall) {
        end(call, GRPCStatusError(code: .cancelled, message: "context canceled"))
    }

    /// Finishes a call once, resets its stream if it is still open and forgets it.
    private func end(_ call: GRPCCall, _ error: GRPCStatusError?) {
        guard call.finish(error) else { return }
        activity.openCalls -= 1
        if call.halfCloseAfterFirstMessage { activity.callsAwaitingAnswers -= 1 }
        guard let id = call.streamID else { return }
        calls[id] = nil
        if call.needsReset, let context, context.channel.isActive {
            call.streamClosed()
            context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: id, payload: .rstStream(.cancel))), promise: nil)
        }
    }

    private func failAll(_ error: GRPCStatusError) {
        for call in calls.values {
            call.streamClosed()
            end(call, error)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if frame.streamID != .rootStream, let call = calls[frame.streamID],
            case .some(let status) = call.receive(frame.payload)
        {
            end(call, status)
        }
        // The keepalive behind sees every frame: any read shows the member is alive.
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? NIOHTTP2WindowUpdatedEvent, let window = event.inboundWindowSize {
            let target = event.streamID == .rootStream ? connectionWindow : streamWindow
            if window <= target / 2, event.streamID == .rootStream || calls[event.streamID] != nil {
                let update = HTTP2Frame(
                    streamID: event.streamID, payload: .windowUpdate(windowSizeIncrement: target - window))
                context.writeAndFlush(wrapOutboundOut(update), promise: nil)
            }
        } else if let event = event as? StreamClosedEvent, let call = calls[event.streamID] {
            // Closed under the call without a frame that ended it: a GOAWAY that left it unprocessed, or a reset.
            call.streamClosed()
            let unprocessed = event.reason == .refusedStream
            end(
                call,
                .unavailable(
                    "stream closed (\(event.reason.map { "\($0)" } ?? "no error"))",
                    sent: !unprocessed && call.requestSent))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A stream's error ends that call alone; the monitor in front handles the connection's.
        if let error = error as? NIOHTTP2Errors.StreamError, let call = calls[error.streamID] {
            end(call, .unavailable("\(error.baseError)", sent: call.requestSent))
            return
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(.unavailable("error reading from server: connection closed", sent: true))
        context.fireChannelInactive()
    }
}

/// A call that was started, for its owner off the event loop: later messages and cancellation hop onto the
/// connection's loop (or run at once when already on it).
struct GRPCCallStream: Sendable {
    let call: NIOLoopBoundBox<GRPCCall>
    let multiplexer: NIOLoopBound<GRPCCallMultiplexer>

    /// Opens the call's stream (`GRPCConnection.openCall` does, once).
    func start() {
        onLoop { $0.start($1) }
    }

    /// Sends one more request message (streaming calls).
    func send(_ message: ByteBuffer) {
        onLoop { $0.send(message, on: $1) }
    }

    /// Ends the call: its observer gets `cancelled` unless it had already finished.
    func cancel() {
        onLoop { $0.cancel($1) }
    }

    private func onLoop(_ body: @escaping @Sendable (GRPCCallMultiplexer, GRPCCall) -> Void) {
        let loop = multiplexer.eventLoop
        if loop.inEventLoop {
            body(multiplexer.value, call.value)
        } else {
            loop.execute { body(multiplexer.value, call.value) }
        }
    }
}

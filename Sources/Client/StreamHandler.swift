import NIOCore
import NIOHPACK
import NIOHTTP2

/// Receives a streamed response body on the stream's event loop (a watch).
protocol StreamBodyConsumer: Sendable {
    /// The stream now carrying the request (a retry attaches a new one); closing it cancels the request.
    func attach(to stream: any Channel)
    /// Body bytes; a thrown error ends the stream.
    func receive(_ buffer: ByteBuffer) throws
    /// The body that followed a 2xx head ended: cleanly with nil, else with the error.
    func finish(_ error: (any Error)?)
}

/// One request on one HTTP/2 stream: writes the request once the stream is active, then feeds the
/// response frames through a `ResponseStateMachine`.
final class StreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private let headers: HPACKHeaders
    private let body: ByteBuffer?
    /// Buffered mode: the whole response. Streaming mode: the 2xx head, or a whole error response.
    private let response: EventLoopPromise<Response>
    private let consumer: (any StreamBodyConsumer)?
    private let timeout: TimeAmount?
    private var machine: ResponseStateMachine
    private var requestWritten = false
    private var responseDelivered = false
    private var timeoutTask: Scheduled<Void>?

    init(
        headers: HPACKHeaders, body: ByteBuffer?, response: EventLoopPromise<Response>,
        consumer: (any StreamBodyConsumer)?, timeout: TimeAmount?
    ) {
        self.headers = headers
        self.body = body
        self.response = response
        self.consumer = consumer
        self.timeout = timeout
        self.machine = ResponseStateMachine(streaming: consumer != nil)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        consumer?.attach(to: context.channel)
        if let timeout {
            timeoutTask = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                self.perform(self.machine.terminate(.timeout), context: context)
                context.close(promise: nil)
            }
        }
        if context.channel.isActive { writeRequest(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // The pipeline is torn down after the stream closes; nothing may stay unanswered.
        perform(machine.terminate(.connectionClosed), context: context)
    }

    func channelActive(context: ChannelHandlerContext) {
        writeRequest(context: context)
        context.fireChannelActive()
    }

    private func writeRequest(context: ChannelHandlerContext) {
        guard !requestWritten else { return }
        requestWritten = true
        let hasBody = (body?.readableBytes ?? 0) > 0
        let head = HTTP2Frame.FramePayload.headers(.init(headers: headers, endStream: !hasBody))
        context.write(wrapOutboundOut(head), promise: nil)
        if hasBody, let body {
            context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(body), endStream: true))), promise: nil)
        }
        context.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let frame):
            perform(machine.receiveHeaders(frame.headers, endStream: frame.endStream), context: context)
        case .data(let frame):
            guard case .byteBuffer(let buffer) = frame.data else {
                perform(machine.terminate(.invalidResponse("unexpected file region")), context: context)
                return
            }
            perform(machine.receiveData(buffer, endStream: frame.endStream), context: context)
        case .rstStream(let code):
            perform(machine.terminate(.invalidResponse("stream reset by the server: \(code)")), context: context)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        perform(machine.terminate(.connectionClosed), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        perform(machine.terminate(.invalidResponse("\(error)")), context: context)
        context.close(promise: nil)
    }

    private func perform(_ action: ResponseStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            return
        case .head(let head, let end):
            deliver(.success(head))
            if end { consumer?.finish(nil) }
        case .chunk(let buffer, let end):
            do {
                if buffer.readableBytes > 0 { try consumer?.receive(buffer) }
                if end { consumer?.finish(nil) }
            } catch {
                consumer?.finish(error)
                _ = machine.terminate(.connectionClosed)
                context.close(promise: nil)
            }
        case .complete(let whole):
            // A streaming request that got an error answer: the caller throws it; no stream is handed out.
            deliver(.success(whole))
        case .fail(let error):
            // Before the head, the caller may retry with the same consumer, so only the promise learns of it.
            if responseDelivered { consumer?.finish(error) } else { deliver(.failure(error)) }
        }
        if machine.isFinished {
            timeoutTask?.cancel()
            timeoutTask = nil
        }
    }

    private func deliver(_ result: Result<Response, ClientError>) {
        guard !responseDelivered else { return }
        responseDelivered = true
        switch result {
        case .success(let value): response.succeed(value)
        case .failure(let error): response.fail(error)
        }
    }
}

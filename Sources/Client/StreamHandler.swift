import HTTP2Streams
import NIOCore
import NIOHPACK
import NIOHTTP2

/// Receives a streamed response body on the stream's event loop (a watch).
protocol StreamBodyConsumer: Sendable {
    /// The request now in flight (a retry attaches a new one); cancelling the handle ends the request.
    func attach(to stream: StreamCancelHandle)
    /// Body bytes; a thrown error ends the stream.
    func receive(_ buffer: ByteBuffer) throws
    /// The body that followed a 2xx head ended: cleanly with nil, else with the error.
    func finish(_ error: (any Error)?)
}

/// Cancels one request in flight from any thread: on the connection's event loop the request fails (or its
/// streamed body ends) as if the connection closed, and its HTTP/2 stream is reset (HTTP/1.1: its connection
/// closed).
struct StreamCancelHandle: Sendable {
    let handler: NIOLoopBoundBox<StreamHandler>
    let eventLoop: any EventLoop

    func cancel() {
        let handler = self.handler
        // Always queued, never run inline: the start that `openStream` queued before it then runs first.
        eventLoop.execute { handler.value.cancel() }
    }
}

/// The request's stream never opened (the connection closed, is going away or ran out of stream IDs), so the
/// server never saw it and any verb may be sent again elsewhere.
struct StreamNotOpened: Error {
    let underlying: ClientError
}

/// One request on one stream: writes the request's HEADERS and DATA in one flush, then feeds the response
/// frames through a `ResponseStateMachine`. On HTTP/2 it is an entry of the connection's `HTTP2StreamTable`;
/// on HTTP/1.1 a handler in the connection's pipeline behind an adapter (`PlainHTTPConnections`). Confined to
/// the connection's event loop.
final class StreamHandler: HTTP2TableStream {
    /// Where the request's frames go, once it started.
    enum Transport {
        case table(HTTP2StreamTable, HTTP2StreamID)
        case channel(ChannelHandlerContext)
    }

    private let headers: HPACKHeaders
    private let body: ByteBuffer?
    /// Buffered mode: the whole response. Streaming mode: the 2xx head, or a whole error response.
    private let response: EventLoopPromise<Response>
    private let consumer: (any StreamBodyConsumer)?
    private let timeout: TimeAmount?
    private var machine: ResponseStateMachine
    private var transport: Transport?
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

    /// The response ended, failed or was cancelled.
    var isFinished: Bool { machine.isFinished }

    /// Sends the request on `transport`; false (and nothing written) when it was cancelled before it started.
    @discardableResult
    func start(_ transport: Transport, on eventLoop: any EventLoop) -> Bool {
        guard !machine.isFinished else { return false }
        self.transport = transport
        if let timeout {
            timeoutTask = eventLoop.assumeIsolated().scheduleTask(in: timeout) { self.abandon(.timeout) }
        }
        let hasBody = (body?.readableBytes ?? 0) > 0
        send(.headers(.init(headers: headers, endStream: !hasBody)))
        if hasBody, let body { send(.data(.init(data: .byteBuffer(body), endStream: true))) }
        switch transport {
        case .table(let table, _): table.flush()
        case .channel(let context): context.flush()
        }
        return true
    }

    /// The stream could not be opened: the caller learns the request was never sent.
    func notOpened(_ error: ClientError) {
        _ = machine.terminate(error)
        timeoutTask?.cancel()
        timeoutTask = nil
        guard !responseDelivered else { return }
        responseDelivered = true
        response.fail(StreamNotOpened(underlying: error))
    }

    /// The caller gave up (task cancelled, watch stopped): fails what is unanswered and resets the stream.
    func cancel() { abandon(.connectionClosed) }

    private func send(_ payload: HTTP2Frame.FramePayload) {
        switch transport {
        case .table(let table, let id): table.write(payload, on: id)
        case .channel(let context): context.write(NIOAny(payload), promise: nil)
        case nil: break
        }
    }

    /// Ends the request with `error` and abandons the stream: RST_STREAM, or on HTTP/1.1 a closed connection.
    func abandon(_ error: ClientError) {
        perform(machine.terminate(error))
        switch transport {
        case .table(let table, let id): table.reset(id)
        case .channel(let context): context.close(promise: nil)
        case nil: break
        }
        transport = nil
    }

    func receive(_ payload: HTTP2Frame.FramePayload) {
        // Whether the peer is done with the stream, so it needs no reset from us.
        var peerEnded = false
        switch payload {
        case .headers(let frame):
            peerEnded = frame.endStream
            perform(machine.receiveHeaders(frame.headers, endStream: frame.endStream))
        case .data(let frame):
            peerEnded = frame.endStream
            guard case .byteBuffer(let buffer) = frame.data else {
                abandon(.invalidResponse("unexpected file region"))
                return
            }
            perform(machine.receiveData(buffer, endStream: frame.endStream))
        case .rstStream(let code):
            peerEnded = true
            if code == .refusedStream && !responseDelivered {
                // RFC 9113 8.7: a refused stream was not processed, so any verb may be sent again.
                notOpened(.connectionClosed)
            } else {
                perform(machine.terminate(.invalidResponse("stream reset by the server: \(code)")))
            }
        default:
            return
        }
        guard machine.isFinished, transport != nil else { return }
        if peerEnded {
            // Our side ended with the request's last frame, so the stream closes on its own.
            if case .table(let table, let id) = transport { table.forget(id) }
            transport = nil
        } else {
            // A broken response, or a consumer that refused the body: the server must stop sending.
            abandon(.connectionClosed)
        }
    }

    func terminated(_ reason: HTTP2StreamTermination) {
        // The table (or the connection) is already done with the stream: nothing to reset.
        transport = nil
        if case .streamError(let error) = reason {
            perform(machine.terminate(.invalidResponse("\(error)")))
        } else {
            perform(machine.terminate(.connectionClosed))
        }
    }

    private func perform(_ action: ResponseStateMachine.Action) {
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

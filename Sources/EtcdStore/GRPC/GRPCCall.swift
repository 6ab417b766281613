import HTTP2Streams
import NIOCore
import NIOHPACK
import NIOHTTP2

/// Learns what happens on one call; called on the connection's event loop.
protocol GRPCCallObserver: AnyObject, Sendable {
    /// One complete response message.
    func received(_ message: ByteBuffer)
    /// The call ended: nil for `grpc-status: 0`, else the status. Called exactly once.
    func finished(_ error: GRPCStatusError?)
}

/// One gRPC call on one HTTP/2 stream of a connection's `HTTP2StreamTable`, confined to the connection's event loop.
/// The first request message leaves with the headers, in one flush, as grpc-go's writer sends them; the
/// last one ends the request stream when the call is unary (`halfCloseAfterFirstMessage`). Responses are
/// deframed and passed to the observer; the status comes from the trailers, or from the headers of a
/// trailers-only answer.
final class GRPCCall: HTTP2TableStream {
    let headers: HPACKHeaders
    let halfCloseAfterFirstMessage: Bool
    /// When the call's time runs out: fixed with its `grpc-timeout`, so ours never ends after the member's.
    let deadline: NIODeadline?
    let observer: any GRPCCallObserver
    /// The first request message, sent with the headers.
    var firstMessage: ByteBuffer?
    /// Set when the headers leave: stream IDs must rise in the order streams open.
    var streamID: HTTP2StreamID?
    var timeoutTask: Scheduled<Void>?
    /// The calls of the connection it runs on, which end it; set when it starts. The cycle through the stream
    /// table lasts until the call ends, when the table lets it go.
    var owner: GRPCCalls?
    private var reader = GRPCMessageReader()
    private var responseHeadersSeen = false
    /// Whether a request message left: a failure after that may have reached etcd.
    private(set) var requestSent = false
    /// Whether our side of the stream is closed (END_STREAM sent) and whether the member's is.
    private(set) var requestEnded = false
    private(set) var responseEnded = false
    private(set) var finished = false

    init(
        headers: HPACKHeaders, halfCloseAfterFirstMessage: Bool, deadline: NIODeadline?, observer: any GRPCCallObserver,
        firstMessage: ByteBuffer?
    ) {
        self.headers = headers
        self.halfCloseAfterFirstMessage = halfCloseAfterFirstMessage
        self.deadline = deadline
        self.observer = observer
        self.firstMessage = firstMessage
    }

    /// The DATA payload of one request message; nil once the request side is closed.
    func frame(_ message: ByteBuffer, allocator: ByteBufferAllocator) -> HTTP2Frame.FramePayload? {
        guard !finished, !requestEnded else { return nil }
        requestSent = true
        requestEnded = halfCloseAfterFirstMessage
        let framed = GRPCFraming.frame(message, allocator: allocator)
        return .data(.init(data: .byteBuffer(framed), endStream: requestEnded))
    }

    func receive(_ payload: HTTP2Frame.FramePayload) {
        if case .some(let status) = status(after: payload) { owner?.end(self, status) }
    }

    func terminated(_ reason: HTTP2StreamTermination) {
        streamClosed()
        let status: GRPCStatusError
        switch reason {
        case .closed(let code):
            // Closed under the call without a frame that ended it: a GOAWAY that left it unprocessed, or a reset.
            let unprocessed = code == .refusedStream
            status = .unavailable(
                "stream closed (\(code.map { "\($0)" } ?? "no error"))", sent: !unprocessed && requestSent)
        case .streamError(let error):
            status = .unavailable("\(error)", sent: requestSent)
        case .connectionClosed:
            status = .unavailable("error reading from server: connection closed", sent: true)
        }
        owner?.end(self, status)
    }

    /// Takes one frame of the response; returns the status when it ends the call (`.some(nil)` for OK).
    private func status(after payload: HTTP2Frame.FramePayload) -> GRPCStatusError?? {
        guard !finished else { return .none }
        switch payload {
        case .headers(let frame):
            responseEnded = frame.endStream
            guard !responseHeadersSeen else { return .some(Self.status(from: frame.headers)) }
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
                return .some(GRPCStatusError(code: code, message: "unexpected HTTP status \(status ?? "none")"))
            }
            return frame.endStream ? .some(Self.status(from: frame.headers)) : .none
        case .data(let frame):
            responseEnded = frame.endStream
            guard case .byteBuffer(let bytes) = frame.data else { return .none }
            do {
                for message in try reader.append(bytes) { observer.received(message) }
            } catch {
                return .some(error)
            }
            if frame.endStream {
                return .some(GRPCStatusError(code: .internal, message: "stream ended without trailers"))
            }
            return .none
        case .rstStream(let code):
            streamClosed()
            let status: GRPCStatusCode = code == .refusedStream ? .unavailable : .internal
            return .some(
                GRPCStatusError(
                    code: status, message: "stream terminated by RST_STREAM with error code: \(code)",
                    mayHaveBeenSent: code != .refusedStream))
        default:
            return .none
        }
    }

    /// The stream is gone on both sides (reset, or closed by the HTTP/2 layer): nothing more may be sent on it.
    func streamClosed() {
        requestEnded = true
        responseEnded = true
    }

    /// Marks the call finished once and tells the observer; false when it already was.
    func finish(_ error: GRPCStatusError?) -> Bool {
        guard !finished else { return false }
        finished = true
        timeoutTask?.cancel()
        timeoutTask = nil
        observer.finished(error)
        return true
    }

    /// A failure that ends the call once its deadline has passed is the deadline's. The member's own deadline
    /// (`grpc-timeout`) starts after ours, so its answer (etcd may say `Unknown: context deadline exceeded`) comes
    /// late; on a busy loop it is read before our timer runs, and callers retry on deadlines, not on unknowns.
    func pastDeadline(_ error: GRPCStatusError) -> GRPCStatusError {
        guard error.code != .deadlineExceeded, error.code != .cancelled, let deadline, NIODeadline.now() >= deadline
        else { return error }
        return GRPCStatusError(code: .deadlineExceeded, message: "context deadline exceeded")
    }

    /// Whether the member must be told the call is abandoned: a stream both sides ended is already closed.
    var needsReset: Bool { streamID != nil && !(requestEnded && responseEnded) }

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

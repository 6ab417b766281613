import NIOCore
import NIOHPACK

/// The protocol state of one response on one HTTP/2 stream: head (after any 1xx), body, optional
/// trailers, end. Pure, so every transition is testable without a channel.
struct ResponseStateMachine {
    enum State {
        case awaitingHead
        /// A 2xx head in streaming mode: body bytes go to the consumer as they arrive.
        case streaming
        /// Collecting the whole body (every non-streaming response, and errors of streaming ones).
        case buffering(status: Int, headers: [Header], body: [UInt8])
        case finished
    }

    /// What the handler does next.
    enum Action {
        case none
        /// Streaming mode: a 2xx head arrived; `end` when the stream also ended.
        case head(Response, end: Bool)
        /// Streaming mode: body bytes; `end` when the stream ended after them.
        case chunk(ByteBuffer, end: Bool)
        /// The whole response (buffered mode, or a non-2xx answer in streaming mode).
        case complete(Response)
        case fail(ClientError)
    }

    private(set) var state: State = .awaitingHead
    /// Streams 2xx bodies instead of buffering them (watches).
    let streaming: Bool
    /// Upper bound on a buffered body, so a misbehaving server cannot exhaust memory.
    let maximumBodyBytes: Int

    init(streaming: Bool, maximumBodyBytes: Int = 1 << 30) {
        self.streaming = streaming
        self.maximumBodyBytes = maximumBodyBytes
    }

    var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    mutating func receiveHeaders(_ headers: HPACKHeaders, endStream: Bool) -> Action {
        switch state {
        case .awaitingHead:
            guard let text = headers.first(name: ":status"), let status = Int(text), (100...599).contains(status)
            else {
                state = .finished
                return .fail(.invalidResponse("missing or invalid :status"))
            }
            // 1xx heads are informational; the real head follows.
            if status < 200 && !endStream { return .none }
            var fields: [Header] = []
            fields.reserveCapacity(headers.count)
            for (name, value, _) in headers where !name.hasPrefix(":") {
                fields.append(Header(name: name, value: value))
            }
            if streaming && (200..<300).contains(status) {
                state = endStream ? .finished : .streaming
                return .head(Response(status: status, headers: fields), end: endStream)
            }
            if endStream {
                state = .finished
                return .complete(Response(status: status, headers: fields))
            }
            var body: [UInt8] = []
            if let length = headers.first(name: "content-length").flatMap({ Int($0) }), length <= maximumBodyBytes {
                body.reserveCapacity(length)
            }
            state = .buffering(status: status, headers: fields, body: body)
            return .none
        case .streaming:
            // Trailers end the stream; a second head without END_STREAM is a protocol violation.
            state = .finished
            return endStream ? .chunk(ByteBuffer(), end: true) : .fail(.invalidResponse("HEADERS inside the body"))
        case .buffering(let status, let fields, let body):
            state = .finished
            return endStream
                ? .complete(Response(status: status, headers: fields, body: body))
                : .fail(.invalidResponse("HEADERS inside the body"))
        case .finished:
            return .none
        }
    }

    mutating func receiveData(_ buffer: ByteBuffer, endStream: Bool) -> Action {
        switch state {
        case .awaitingHead:
            state = .finished
            return .fail(.invalidResponse("DATA before HEADERS"))
        case .streaming:
            if endStream { state = .finished }
            return .chunk(buffer, end: endStream)
        case .buffering(let status, let fields, var body):
            // Drop the reference held by `state` so the append does not copy the array.
            state = .finished
            guard body.count + buffer.readableBytes <= maximumBodyBytes else {
                return .fail(.invalidResponse("body larger than \(maximumBodyBytes) bytes"))
            }
            body.append(contentsOf: buffer.readableBytesView)
            if endStream { return .complete(Response(status: status, headers: fields, body: body)) }
            state = .buffering(status: status, headers: fields, body: body)
            return .none
        case .finished:
            return .none
        }
    }

    /// The stream closed or failed; anything unfinished fails with `error`.
    mutating func terminate(_ error: ClientError) -> Action {
        if case .finished = state { return .none }
        state = .finished
        return .fail(error)
    }
}

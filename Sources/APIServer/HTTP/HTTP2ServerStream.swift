import HTTP2Streams
import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2

/// One request stream of an HTTP/2 connection, an entry of the connection's `HTTP2StreamTable` rather than a
/// child channel with a pipeline of its own: HEADERS become the request head and DATA its body (as NIO's
/// `HTTP2FramePayloadToHTTP1ServerCodec` makes them), the request is served as on HTTP/1.1 (`RequestServing`),
/// and the response's parts go out as frames of this stream (`HTTP2StreamSink`). A reset or a closed connection
/// cancels the request's task. Confined to the connection's event loop.
final class HTTP2ServerStream: HTTP2TableStream {
    let id: HTTP2StreamID
    private let table: HTTP2StreamTable
    private let serving: RequestServing
    private let executor: EventLoopTaskExecutor
    private var reader = RequestReader()
    /// Whether the request head was read; later HEADERS are trailers.
    private var started = false
    private var task: Task<Void, Never>?
    /// The response's last frame, held until the next write or flush so END_STREAM can ride on it.
    private var held: (payload: HTTP2Frame.FramePayload, promise: EventLoopPromise<Void>?)?
    /// Our END_STREAM went out, or the stream is gone: later writes fail.
    private var done = false

    init(id: HTTP2StreamID, table: HTTP2StreamTable, serving: RequestServing, executor: EventLoopTaskExecutor) {
        self.id = id
        self.table = table
        self.serving = serving
        self.executor = executor
    }

    func receive(_ payload: HTTP2Frame.FramePayload) {
        switch payload {
        case .headers(let headers):
            if !started {
                started = true
                guard let head = Self.requestHead(headers.headers, endStream: headers.endStream) else {
                    // Malformed as HTTP: NIO's codec threw here too. Go's server resets such a stream.
                    reset(.protocolError)
                    return
                }
                reader.begin(head)
            }
            if headers.endStream { dispatch() }
        case .data(let data):
            if case .byteBuffer(let bytes) = data.data { reader.append(bytes) }
            if data.endStream { dispatch() }
        default:
            break
        }
    }

    func terminated(_ reason: HTTP2StreamTermination) {
        ended()
    }

    private func dispatch() {
        guard let request = reader.end() else { return }
        task = serving.serve(
            request, sink: HTTP2StreamSink(stream: NIOLoopBound(self, eventLoop: executor.eventLoop)),
            executor: executor)
    }

    /// The stream is gone: a response still being made is cancelled and its pending frames fail.
    private func ended() {
        done = true
        task?.cancel()
        task = nil
        if let held {
            self.held = nil
            held.promise?.fail(ChannelError.ioOnClosedChannel)
        }
    }

    /// Resets the stream and ends what is left of the request.
    func reset(_ code: HTTP2ErrorCode) {
        guard !done else { return }
        table.reset(id, code: code)
        ended()
    }

    // MARK: The response

    func write(_ part: HTTPServerResponsePart, promise: EventLoopPromise<Void>?) {
        guard !done else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch part {
        case .head(let head):
            release()
            held = (.headers(.init(headers: Self.responseHeaders(head))), promise)
        case .body(let body):
            release()
            guard case .byteBuffer(let bytes) = body else {
                promise?.fail(ChannelError.operationUnsupported)
                return
            }
            held = (.data(.init(data: .byteBuffer(bytes))), promise)
        case .end:
            // END_STREAM rides on the frame before the end, as Go's server sends it: one frame less per response.
            done = true
            if let held, let ending = Self.ending(held.payload) {
                self.held = nil
                if let first = held.promise, let promise { first.futureResult.cascade(to: promise) }
                table.write(ending, on: id, promise: held.promise ?? promise)
            } else {
                release()
                table.write(.data(.init(data: .byteBuffer(ByteBuffer()), endStream: true)), on: id, promise: promise)
            }
        }
    }

    func flush() {
        release()
        table.flush()
    }

    /// Writes the held frame, if any.
    private func release() {
        guard let held else { return }
        self.held = nil
        table.write(held.payload, on: id, promise: held.promise)
    }

    /// `payload` with END_STREAM set, when it is a frame that can carry it.
    private static func ending(_ payload: HTTP2Frame.FramePayload) -> HTTP2Frame.FramePayload? {
        switch payload {
        case .headers(var headers):
            headers.endStream = true
            return .headers(headers)
        case .data(var data):
            data.endStream = true
            return .data(data)
        default:
            return nil
        }
    }
}

/// An HTTP/2 stream as a response's destination.
struct HTTP2StreamSink: ResponseSink {
    let stream: NIOLoopBound<HTTP2ServerStream>

    var eventLoop: any EventLoop { stream.eventLoop }
    func write(_ part: HTTPServerResponsePart, promise: EventLoopPromise<Void>?) {
        stream.value.write(part, promise: promise)
    }
    func flush() { stream.value.flush() }
    /// The stream ended with its response.
    func close() {}
    func abort() {
        if eventLoop.inEventLoop {
            stream.value.reset(.cancel)
        } else {
            eventLoop.execute { stream.value.reset(.cancel) }
        }
    }
}

@available(*, unavailable)
extension HTTP2ServerStream: Sendable {}

import NIOCore
import NIOHTTP1

/// Writes responses to a `ResponseSink` from any task; kept apart from the request's reader, which is loop-bound.
enum ResponseWriter {
    /// A watch's bytes handed to its sink and not yet on the socket, past which the writer waits for them.
    static let unwrittenStreamBytes = 64 * 1024

    static func responseHead(_ response: HTTPResponse, version: HTTPVersion, length: Int?, keepAlive: Bool)
        -> HTTPResponseHead
    {
        var headers = response.headers
        if let length { headers.replaceOrAdd(name: "Content-Length", value: String(length)) }
        if !keepAlive, version.major == 1 { headers.replaceOrAdd(name: "Connection", value: "close") }
        return HTTPResponseHead(version: version, status: response.status, headers: headers)
    }

    /// Writes a whole response, gzipped when `gzip` was negotiated and the body is large enough
    /// (`ResponseCompression`); the future completes once its end reached the socket.
    @discardableResult
    static func write(
        _ response: HTTPResponse, to sink: some ResponseSink, version: HTTPVersion, keepAlive: Bool,
        gzip: Bool = false
    ) -> EventLoopFuture<Void> {
        guard case .bytes(let bytes) = response.body else { return sink.eventLoop.makeSucceededVoidFuture() }
        var response = response
        let body: ByteBuffer
        if ResponseCompression.applies(to: response, length: bytes.count, negotiated: gzip),
            let compressed = try? GzipStream().compress(bytes, finish: true)
        {
            ResponseCompression.mark(&response.headers)
            body = compressed
        } else {
            body = ByteBuffer(bytes: bytes)
        }
        let head = responseHead(response, version: version, length: body.readableBytes, keepAlive: keepAlive)
        let done =
            body.readableBytes > 0
            ? sink.send(.head(head), .body(.byteBuffer(body)), .end(nil)) : sink.send(.head(head), .end(nil))
        if !keepAlive { done.whenComplete { _ in sink.close() } }
        return done
    }

    /// Writes each chunk as it comes and waits only while more than `unwrittenStreamBytes` of the response are
    /// not yet on the socket (the HTTP/2 stream's window, the connection's or the socket is full), so a slow
    /// watcher holds at most that plus a chunk here. Waiting for every chunk to reach the socket instead cost each
    /// event of each watcher a wake-up of this task from the event loop (perf of bench watch: a tenth of the
    /// server's time in those task switches). Cancelling the task ends the stream cleanly: the chunks stop and
    /// the end is still written. A failed write gives up on the response, which cancels this task.
    static func stream(
        _ response: HTTPResponse, chunks: AsyncStream<[UInt8]>, to sink: some ResponseSink, version: HTTPVersion
    )
        async
    {
        let head = responseHead(response, version: version, length: nil, keepAlive: true)
        let unwritten = UnwrittenBytes()
        do {
            try await sink.send(.head(head)).get()
            for await chunk in chunks {
                let size = chunk.count
                let pending = unwritten.add(size)
                let written = sink.send(.body(.byteBuffer(ByteBuffer(bytes: chunk)))) { result in
                    unwritten.remove(size)
                    if case .failure = result { sink.abort() }
                }
                if pending > unwrittenStreamBytes { try await written.get() }
            }
            try await sink.send(.end(nil)).get()
        } catch {
            sink.abort()
        }
    }
}

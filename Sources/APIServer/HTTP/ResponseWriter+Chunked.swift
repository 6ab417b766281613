import NIOCore
import NIOHTTP1

extension ResponseWriter {
    /// Writes a body made chunk by chunk (a large list), gzipped as it goes when `gzip` was negotiated: the
    /// next chunk is made while the previous one is being sent, and no more than one waits for the socket, so
    /// the body is never whole in memory. Without a Content-Length, HTTP/1.1 frames it as chunked encoding and
    /// HTTP/2 as DATA frames.
    static func write(
        _ response: HTTPResponse, chunks body: ChunkedBody, to sink: some ResponseSink, version: HTTPVersion,
        keepAlive: Bool, gzip: Bool
    ) async {
        var response = response
        // A chunked body is larger than one chunk, and chunks are larger than the threshold.
        var compressor: GzipStream?
        if ResponseCompression.applies(to: response, length: nil, negotiated: gzip) {
            compressor = try? GzipStream()
            if compressor != nil { ResponseCompression.mark(&response.headers) }
        }
        var head: HTTPResponseHead? = responseHead(response, version: version, length: nil, keepAlive: keepAlive)
        do {
            var chunks = body.makeIterator()
            var sending: EventLoopFuture<Void>?
            var current = chunks.next()
            while let chunk = current {
                let following = chunks.next()
                let buffer =
                    try compressor?.compress(chunk, finish: following == nil) ?? ByteBuffer(bytes: chunk)
                try await sending?.get()
                // The head leaves with the first chunk.
                if let first = head {
                    head = nil
                    sending = sink.send(.head(first), .body(.byteBuffer(buffer)))
                } else {
                    sending = sink.send(.body(.byteBuffer(buffer)))
                }
                current = following
            }
            try await sending?.get()
            if let head {
                try await sink.send(.head(head), .end(nil)).get()
            } else {
                try await sink.send(.end(nil)).get()
            }
            if !keepAlive { sink.eventLoop.execute { sink.close() } }
        } catch {
            // The head is out: a client that lost the connection or got a cut body sees a broken response.
            sink.abort()
        }
    }
}

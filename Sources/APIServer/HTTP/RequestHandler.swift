import APIMachinery
import NIOCore
import NIOHTTP1

/// Reads one request at a time from an HTTP/1 connection or one HTTP/2 stream, hands it to the
/// responder in a task that runs on this event loop (`EventLoopTaskExecutor`), and writes the answer back,
/// streaming it when it is a watch.
final class RequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Bodies above this are refused with 413, as upstream's 3 MiB limit.
    static let maxBodyBytes = 3 * 1024 * 1024

    private let responder: any HTTPResponder
    private let connection: ConnectionIdentity
    private let requests: InFlightRequests
    /// The user every request is served as, skipping authentication: the plain local port's superuser.
    private let fixedUser: UserInfo?
    private let compression: ResponseCompression
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var tooLarge = false
    private var inFlight: Task<Void, Never>?
    private var executor: EventLoopTaskExecutor?

    init(
        responder: any HTTPResponder, connection: ConnectionIdentity, requests: InFlightRequests,
        fixedUser: UserInfo? = nil, compression: ResponseCompression = ResponseCompression(enabled: true)
    ) {
        self.responder = responder
        self.connection = connection
        self.requests = requests
        self.fixedUser = fixedUser
        self.compression = compression
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = nil
            self.tooLarge = false
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > Self.maxBodyBytes {
                tooLarge = true
            }
        case .body(var chunk):
            guard !tooLarge else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > Self.maxBodyBytes {
                tooLarge = true
                body = nil
            } else if body == nil {
                body = chunk
            } else {
                body?.writeBuffer(&chunk)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            dispatch(context: context, head: head)
        }
    }

    private func dispatch(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let channel = context.channel
        let keepAlive = head.isKeepAlive
        let version = head.version
        if tooLarge {
            ResponseWriter.write(
                HTTPResponse.error(.tooLarge(limit: Self.maxBodyBytes)), to: channel, version: version, keepAlive: false
            )
            return
        }
        let bodyBytes = body.map { Array($0.readableBytesView) } ?? []
        body = nil
        let responder = self.responder
        let connection = self.connection
        let requests = self.requests
        let fixedUser = self.fixedUser
        let remote =
            connection.remoteAddress.isEmpty
            ? channel.parent?.remoteAddress?.ipAddress ?? channel.remoteAddress?.ipAddress ?? ""
            : connection.remoteAddress
        let headers = head.headers
        let method = head.method
        let uri = head.uri
        let gzip = compression.negotiated(headers)
        let id = requests.begin()
        let executor = self.executor ?? EventLoopTaskExecutor(context.eventLoop)
        self.executor = executor
        let task = Task(executorPreference: executor) {
            var request = HTTPRequest(
                method: method, uri: uri, headers: headers, body: bodyBytes, user: fixedUser, remoteAddress: remote)
            (request.clientCertificate, request.clientCertificateChain) = connection.credentials
            let response = await EventLoopTaskExecutor.$current.withValue(executor) {
                await responder.respond(to: request)
            }
            // Once a shutdown began, an HTTP/1.1 client is asked to take its next request elsewhere.
            let keepAlive = keepAlive && !requests.isQuiescing
            switch response.body {
            case .bytes(let bytes):
                // Written from this loop at once; compressing a large body is left to the global executor.
                let written =
                    ResponseCompression.applies(to: response, length: bytes.count, negotiated: gzip)
                    ? await withTaskExecutorPreference(globalConcurrentExecutor) {
                        ResponseWriter.write(response, to: channel, version: version, keepAlive: keepAlive, gzip: gzip)
                    } : ResponseWriter.write(response, to: channel, version: version, keepAlive: keepAlive, gzip: gzip)
                written.whenComplete { _ in requests.finished(id) }
                return
            case .chunked(let body):
                await withTaskExecutorPreference(globalConcurrentExecutor) {
                    await ResponseWriter.write(
                        response, chunks: body, to: channel, version: version, keepAlive: keepAlive, gzip: gzip)
                }
            case .stream(let chunks):
                requests.streaming(id)
                await withTaskExecutorPreference(globalConcurrentExecutor) {
                    await ResponseWriter.stream(response, chunks: chunks, to: channel, version: version)
                }
            }
            requests.finished(id)
        }
        requests.attach(id, task: task)
        inFlight = task
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A closed connection or reset stream ends its watch.
        inFlight?.cancel()
        context.fireChannelInactive()
    }
}

/// Writes responses on a channel from any task; kept apart from the handler, which is loop-bound.
enum ResponseWriter {
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
        _ response: HTTPResponse, to channel: any Channel, version: HTTPVersion, keepAlive: Bool, gzip: Bool = false
    ) -> EventLoopFuture<Void> {
        guard case .bytes(let bytes) = response.body else { return channel.eventLoop.makeSucceededVoidFuture() }
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
        let send: @Sendable () -> EventLoopFuture<Void> = {
            channel.write(HTTPServerResponsePart.head(head), promise: nil)
            if body.readableBytes > 0 {
                channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil)
            }
            let done = channel.writeAndFlush(HTTPServerResponsePart.end(nil))
            if !keepAlive { done.whenComplete { _ in channel.close(promise: nil) } }
            return done
        }
        return channel.eventLoop.inEventLoop ? send() : channel.eventLoop.flatSubmit(send)
    }

    /// Writes each chunk as it comes and waits only while the channel is not writable, so a slow watcher
    /// holds at most the channel's buffered bytes here. Cancelling the task ends the stream cleanly: the chunks stop
    /// and the end is still written.
    static func stream(
        _ response: HTTPResponse, chunks: AsyncStream<[UInt8]>, to channel: any Channel, version: HTTPVersion
    )
        async
    {
        let head = responseHead(response, version: version, length: nil, keepAlive: true)
        do {
            try await channel.writeAndFlush(HTTPServerResponsePart.head(head)).get()
            for await chunk in chunks {
                let written = channel.eventLoop.makePromise(of: Void.self)
                channel.writeAndFlush(
                    HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: chunk))), promise: written)
                // Waiting for every chunk to reach the socket cost each event of each watcher a wake-up of this task
                // from the event loop (perf of bench watch: a tenth of the server's time in those task switches);
                // wait only while the stream pushes back (its HTTP/2 window or the socket is full), so a slow watcher
                // still holds at most the channel's high-water mark here. A failed write closes the stream, which
                // cancels this task and ends the watch.
                written.futureResult.whenFailure { _ in channel.close(promise: nil) }
                if !channel.isWritable { try await written.futureResult.get() }
            }
            try await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
        } catch {
            channel.close(promise: nil)
        }
    }

}

import APIMachinery
import NIOCore
import NIOHTTP1

/// Reads one request at a time from an HTTP/1.1 connection and hands it to `RequestServing`, which answers it
/// through the connection (`HTTP1ResponseSink`). HTTP/2 streams are `HTTP2ServerStream`s instead.
final class RequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Bodies above this are refused with 413, as upstream's 3 MiB limit.
    static let maxBodyBytes = 3 * 1024 * 1024

    private let serving: RequestServing
    private var reader = RequestReader()
    private var inFlight: Task<Void, Never>?
    private var executor: EventLoopTaskExecutor?

    init(serving: RequestServing) { self.serving = serving }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            reader.begin(head)
        case .body(let chunk):
            reader.append(chunk)
        case .end:
            guard let request = reader.end() else { return }
            let executor = self.executor ?? EventLoopTaskExecutor(context.eventLoop)
            self.executor = executor
            inFlight = serving.serve(request, sink: HTTP1ResponseSink(channel: context.channel), executor: executor)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A closed connection ends its watch.
        inFlight?.cancel()
        context.fireChannelInactive()
    }
}

/// A request as read: its head, and its body unless that was over the limit.
struct ReadRequest {
    var head: HTTPRequestHead
    var body: ByteBuffer?
    var tooLarge: Bool
}

/// The request being read from a connection or stream: the head, then the body up to
/// `RequestHandler.maxBodyBytes` (past that only the fact that it was too large).
struct RequestReader {
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var tooLarge = false

    mutating func begin(_ head: HTTPRequestHead) {
        self.head = head
        body = nil
        tooLarge = false
        if let length = head.headers.first(name: "content-length").flatMap(Int.init),
            length > RequestHandler.maxBodyBytes
        {
            tooLarge = true
        }
    }

    mutating func append(_ chunk: ByteBuffer) {
        guard !tooLarge, head != nil else { return }
        var chunk = chunk
        if (body?.readableBytes ?? 0) + chunk.readableBytes > RequestHandler.maxBodyBytes {
            tooLarge = true
            body = nil
        } else if body == nil {
            body = chunk
        } else {
            body?.writeBuffer(&chunk)
        }
    }

    /// The whole request, once its end was read; nil when no head came first.
    mutating func end() -> ReadRequest? {
        guard let head else { return nil }
        defer {
            self.head = nil
            body = nil
        }
        return ReadRequest(head: head, body: body, tooLarge: tooLarge)
    }
}

/// What serving a request needs, shared by a listener's HTTP/1.1 connections and HTTP/2 streams: runs the
/// responder in a task on the event loop that read the request (`EventLoopTaskExecutor`) and writes the answer
/// to the request's `ResponseSink`, streaming it when it is a watch.
struct RequestServing: Sendable {
    let responder: any HTTPResponder
    let connection: ConnectionIdentity
    let requests: InFlightRequests
    /// The user every request is served as, skipping authentication: the plain local port's superuser.
    let fixedUser: UserInfo?
    let compression: ResponseCompression

    /// Starts answering `request`; the task is what a closed connection or reset stream cancels.
    func serve(_ request: ReadRequest, sink: some ResponseSink, executor: EventLoopTaskExecutor) -> Task<Void, Never>? {
        let head = request.head
        let keepAlive = head.isKeepAlive
        let version = head.version
        if request.tooLarge {
            ResponseWriter.write(
                HTTPResponse.error(.tooLarge(limit: RequestHandler.maxBodyBytes)), to: sink, version: version,
                keepAlive: false)
            return nil
        }
        let bodyBytes = request.body.map { Array($0.readableBytesView) } ?? []
        let responder = self.responder
        let connection = self.connection
        let requests = self.requests
        let fixedUser = self.fixedUser
        let gzip = compression.negotiated(head.headers)
        requests.begin()
        return Task(executorPreference: executor) {
            var request = HTTPRequest(
                method: head.method, uri: head.uri, headers: head.headers, body: bodyBytes, user: fixedUser,
                remoteAddress: connection.remoteAddress)
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
                        ResponseWriter.write(response, to: sink, version: version, keepAlive: keepAlive, gzip: gzip)
                    } : ResponseWriter.write(response, to: sink, version: version, keepAlive: keepAlive, gzip: gzip)
                written.whenComplete { _ in requests.finished() }
            case .chunked(let body):
                await withTaskExecutorPreference(globalConcurrentExecutor) {
                    await ResponseWriter.write(
                        response, chunks: body, to: sink, version: version, keepAlive: keepAlive, gzip: gzip)
                }
                requests.finished()
            case .stream(let chunks):
                // A watch is written by a task of its own, the one a shutdown's endStreams() cancels, so that
                // ordinary requests need not register theirs; cancelling this request cancels it too.
                let stream = Task(executorPreference: globalConcurrentExecutor) {
                    await ResponseWriter.stream(response, chunks: chunks, to: sink, version: version)
                }
                let id = requests.streaming(stream)
                await withTaskCancellationHandler {
                    await stream.value
                } onCancel: {
                    stream.cancel()
                }
                requests.streamFinished(id)
            }
        }
    }
}

import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS

/// Where one call goes: the address to dial, the name the serving certificate must carry (nil: the dialled
/// IP address), and the URL as error messages show it.
struct WebhookTarget: Sendable, Equatable {
    var host: String
    var port: Int
    /// Path and query, `/validate?timeout=10s`.
    var path: String
    var serverName: String?
    var url: String
}

/// A call that did not produce an AdmissionReview to read: upstream's `ErrCallingWebhook` reason, which
/// `failurePolicy` decides about.
struct WebhookCallFailure: Error, Sendable, Equatable {
    var message: String
}

/// Posts AdmissionReviews over TLS, verified against the webhook's `caBundle` (or the system roots): HTTP/2
/// when the webhook offers it by ALPN, else HTTP/1.1, as Go's client does. Each call has its own connection,
/// closed when the answer arrived or the timeout passed.
final class WebhookClient: Sendable {
    private let group: any EventLoopGroup
    /// What ALPN offers; tests narrow it to reach the HTTP/1.1 path.
    private let applicationProtocols: [String]
    /// TLS contexts by CA bundle: building one parses the bundle, which a request should not pay for.
    private let contexts = NIOLockedValueBox<[[UInt8]: NIOSSLContext]>([:])

    init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        applicationProtocols: [String] = ["h2", "http/1.1"]
    ) {
        self.group = group
        self.applicationProtocols = applicationProtocols
    }

    /// The response's status and body, or a failure saying why there is none.
    func post(_ target: WebhookTarget, body: [UInt8], caBundle: [UInt8]?, timeout: TimeAmount)
        async throws(WebhookCallFailure) -> (status: Int, body: [UInt8])
    {
        let prefix = "Post \"\(target.url)\": "
        let tls: NIOSSLContext
        do {
            tls = try context(caBundle: caBundle)
        } catch {
            throw WebhookCallFailure(message: prefix + "tls: invalid caBundle: \(error)")
        }
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: WebhookHTTPResponse.self)
        let deadline = eventLoop.scheduleTask(in: timeout) {
            promise.fail(WebhookCallFailure(message: prefix + "context deadline exceeded"))
        }
        let request = WebhookHTTPRequest(target: target, body: body)
        let connected = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: target.serverName))
                    try sync.addHandler(
                        ApplicationProtocolNegotiationHandler { result, channel in
                            Self.negotiated(result, channel: channel, request: request, promise: promise)
                        })
                    try sync.addHandler(FailureReporter(promise: promise))
                }
            }
            .connect(host: target.host, port: target.port)
        connected.whenFailure { error in promise.fail(Self.dialFailure(error, target: target, prefix: prefix)) }
        // Whatever settles the call, the connection goes.
        promise.futureResult.whenComplete { _ in
            deadline.cancel()
            connected.whenSuccess { $0.close(promise: nil) }
        }
        do {
            let response = try await promise.futureResult.get()
            return (response.status, response.body)
        } catch let failure as WebhookCallFailure {
            throw failure
        } catch {
            throw WebhookCallFailure(message: prefix + Self.describe(error))
        }
    }

    private func context(caBundle: [UInt8]?) throws -> NIOSSLContext {
        let key = caBundle ?? []
        if let context = contexts.withLockedValue({ $0[key] }) { return context }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.applicationProtocols = applicationProtocols
        if let caBundle, !caBundle.isEmpty {
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(caBundle))
        }
        let context = try NIOSSLContext(configuration: configuration)
        contexts.withLockedValue { contexts in
            // Bundles change rarely; dropping them all now and then keeps replaced ones from piling up.
            if contexts.count >= 64 { contexts.removeAll() }
            contexts[key] = context
        }
        return context
    }

    /// Sets up HTTP/2 or HTTP/1.1 as ALPN chose and sends the request.
    private static func negotiated(
        _ result: ALPNResult, channel: any Channel, request: WebhookHTTPRequest,
        promise: EventLoopPromise<WebhookHTTPResponse>
    ) -> EventLoopFuture<Void> {
        if case .negotiated("h2") = result {
            return channel.eventLoop.makeCompletedFuture { () throws -> NIOHTTP2Handler.StreamMultiplexer in
                let sync = channel.pipeline.syncOperations
                return try sync.configureHTTP2Pipeline(
                    mode: .client, connectionConfiguration: NIOHTTP2Handler.ConnectionConfiguration(),
                    streamConfiguration: NIOHTTP2Handler.StreamConfiguration(),
                    position: .before(try sync.handler(type: FailureReporter.self))
                ) { pushed in pushed.close() }
            }.flatMap { (multiplexer: NIOHTTP2Handler.StreamMultiplexer) in
                multiplexer.createStreamChannel { stream in
                    stream.eventLoop.makeCompletedFuture {
                        let sync = stream.pipeline.syncOperations
                        try sync.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .https))
                        try sync.addHandler(ResponseCollector(request: request, promise: promise))
                    }
                }.map { _ in }
            }
        }
        return channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            let reporter = try sync.handler(type: FailureReporter.self)
            try sync.addHTTPClientHandlers(position: .before(reporter))
            try sync.addHandler(ResponseCollector(request: request, promise: promise), position: .before(reporter))
        }
    }

    /// Go's wording for the common dial failures, which is what upstream's messages carry.
    private static func dialFailure(_ error: any Error, target: WebhookTarget, prefix: String) -> WebhookCallFailure {
        let address = "\(target.host):\(target.port)"
        if let io = error as? IOError, io.errnoCode == ECONNREFUSED {
            return WebhookCallFailure(message: prefix + "dial tcp \(address): connect: connection refused")
        }
        if let connect = error as? NIOConnectionError,
            connect.connectionErrors.contains(where: {
                ($0.error as? IOError)?.errnoCode == ECONNREFUSED
            })
        {
            return WebhookCallFailure(message: prefix + "dial tcp \(address): connect: connection refused")
        }
        if error is ChannelError, case .connectTimeout = error as? ChannelError {
            return WebhookCallFailure(message: prefix + "context deadline exceeded")
        }
        return WebhookCallFailure(message: prefix + "dial tcp \(address): \(describe(error))")
    }

    private static func describe(_ error: any Error) -> String {
        if let ssl = error as? NIOSSLError { return "tls: \(ssl)" }
        if let failure = error as? WebhookCallFailure { return failure.message }
        return "\(error)"
    }
}

/// The POST one call sends.
private struct WebhookHTTPRequest: Sendable {
    var target: WebhookTarget
    var body: [UInt8]
}

/// What one call received.
private struct WebhookHTTPResponse: Sendable {
    var status: Int
    var body: [UInt8]
}

/// Writes the request once its channel (the connection, or an HTTP/2 stream) is ready and collects the answer.
private final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let request: WebhookHTTPRequest
    private let promise: EventLoopPromise<WebhookHTTPResponse>
    private var status = 0
    private var body: [UInt8] = []
    /// Webhook answers are small; a larger one is refused rather than buffered.
    private static let limit = 3 << 20

    init(request: WebhookHTTPRequest, promise: EventLoopPromise<WebhookHTTPResponse>) {
        self.request = request
        self.promise = promise
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { send(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context: context)
        context.fireChannelActive()
    }

    private var sent = false

    private func send(context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: request.target.serverName ?? request.target.host)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "application/json, */*")
        headers.add(name: "Content-Length", value: String(request.body.count))
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: request.target.path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: request.body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
        case .body(let buffer):
            body += buffer.readableBytesView
            if body.count > Self.limit {
                promise.fail(WebhookCallFailure(message: "webhook response larger than \(Self.limit) bytes"))
                context.close(promise: nil)
            }
        case .end:
            promise.succeed(WebhookHTTPResponse(status: status, body: body))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(WebhookCallFailure(message: "EOF"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ResponseCollector: Sendable {}

/// Ends the connection pipeline: a TLS or protocol failure, or the peer closing, fails the call.
private final class FailureReporter: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = Any

    private let promise: EventLoopPromise<WebhookHTTPResponse>

    init(promise: EventLoopPromise<WebhookHTTPResponse>) {
        self.promise = promise
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(WebhookCallFailure(message: "EOF"))
        context.fireChannelInactive()
    }
}

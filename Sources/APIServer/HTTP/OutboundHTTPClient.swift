import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS

/// How an outbound connection trusts its peer's serving certificate.
enum OutboundTrust: Hashable, Sendable {
    /// The system's roots.
    case system
    /// The certificates of a PEM bundle: a webhook's or an APIService's `caBundle`.
    case bundle([UInt8])
    /// No check at all: an APIService's `insecureSkipTLSVerify`.
    case insecureSkipVerify

    /// The trust a `caBundle` field asks for, as upstream reads it: absent or empty means the system's roots.
    init(caBundle: [UInt8]?, insecureSkipTLSVerify: Bool = false) {
        if insecureSkipTLSVerify {
            self = .insecureSkipVerify
        } else if let caBundle, !caBundle.isEmpty {
            self = .bundle(caBundle)
        } else {
            self = .system
        }
    }
}

/// Where a request goes: the address to dial, the name the serving certificate must carry (nil: the dialled IP
/// address) and how that certificate is trusted. Resolving a URL or a Service to this is the caller's part.
struct OutboundTarget: Sendable, Equatable {
    var host: String
    var port: Int
    var serverName: String?
    var trust: OutboundTrust

    /// `host:port`, as Go's dial errors name the address.
    var address: String { "\(host):\(port)" }
}

/// One request: any method, the headers as given (`Host` included) and a body sent whole.
struct OutboundRequest: Sendable {
    var method: HTTPMethod
    /// Path and query.
    var uri: String
    var headers: HTTPHeaders
    var body: [UInt8] = []
}

/// A response head and its body as it arrives.
struct OutboundResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: OutboundBody
}

/// The one HTTPS client for the API server's outbound calls (admission webhooks, aggregated API servers): TLS
/// trusting a CA bundle, the system roots or nothing, an optional client certificate, HTTP/2 or HTTP/1.1 as ALPN
/// picks (as Go's client does), any method, and the response head back with its body streamed. Each request
/// has its own connection, closed when the body was read to its end or dropped, or the request failed.
final class OutboundHTTPClient: Sendable {
    private let group: any EventLoopGroup
    /// What ALPN offers.
    private let applicationProtocols: [String]
    private let certificateChain: [NIOSSLCertificate]
    private let privateKey: NIOSSLPrivateKey?
    /// TLS contexts by trust: building one parses the bundle, which a request should not pay for.
    private let contexts = NIOLockedValueBox<[OutboundTrust: NIOSSLContext]>([:])

    /// A client presenting `certificateChain` with `privateKey` when both are given, else no certificate.
    init(
        applicationProtocols: [String] = ["h2", "http/1.1"], certificateChain: [NIOSSLCertificate] = [],
        privateKey: NIOSSLPrivateKey? = nil, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.group = group
        self.applicationProtocols = applicationProtocols
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }

    /// Sends `request` to `target` and returns once the response head arrived, or fails with Go's wording;
    /// `deadline` bounds the dial and the wait for the head. The body is the caller's to read or drop.
    func send(_ request: OutboundRequest, to target: OutboundTarget, deadline: NIODeadline)
        async throws(OutboundFailure) -> OutboundResponse
    {
        let tls: NIOSSLContext
        do {
            tls = try context(for: target.trust)
        } catch {
            throw .invalidCABundle("\(error)")
        }
        let eventLoop = group.next()
        let head = eventLoop.makePromise(of: HTTPResponseHead.self)
        let exchange = NIOLoopBoundBox.makeEmptyBox(valueType: OutboundExchange.self, eventLoop: eventLoop)
        // Only the source goes into the pipeline: the body is the reader's, and dropping it ends the request.
        let (body, source) = OutboundBody.make(exchange: exchange)
        let timer = eventLoop.scheduleTask(deadline: deadline) { head.fail(OutboundFailure.deadlineExceeded) }
        let connected = ClientBootstrap(group: eventLoop)
            .connectTimeout(max(deadline - .now(), .zero))
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: target.serverName))
                    let makeExchange = { @Sendable in
                        OutboundExchange(request: request, head: head, body: source, box: exchange)
                    }
                    try sync.addHandler(
                        ApplicationProtocolNegotiationHandler { result, channel in
                            Self.negotiated(result, channel: channel, makeExchange: makeExchange)
                        })
                    try sync.addHandler(ConnectionFailureReporter(head: head))
                }
            }
            .connect(host: target.host, port: target.port)
        connected.whenFailure { error in head.fail(OutboundFailure.dial(error, address: target.address)) }
        head.futureResult.whenComplete { result in
            timer.cancel()
            // A response's connection lives as long as its body is read; a failed request's goes now, and its
            // body's source ends here too, whether or not a pipeline ever held it.
            if case .failure(let error) = result {
                source.finish(error)
                connected.whenSuccess { $0.close(promise: nil) }
            }
        }
        do {
            let responseHead = try await head.futureResult.get()
            return OutboundResponse(status: responseHead.status, headers: responseHead.headers, body: body)
        } catch let failure as OutboundFailure {
            throw failure
        } catch {
            throw OutboundFailure(error)
        }
    }

    private func context(for trust: OutboundTrust) throws -> NIOSSLContext {
        if let context = contexts.withLockedValue({ $0[trust] }) { return context }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.applicationProtocols = applicationProtocols
        switch trust {
        case .system: break
        case .bundle(let bundle): configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(bundle))
        case .insecureSkipVerify: configuration.certificateVerification = .none
        }
        if let privateKey {
            configuration.certificateChain = certificateChain.map { .certificate($0) }
            configuration.privateKey = .privateKey(privateKey)
        }
        let context = try NIOSSLContext(configuration: configuration)
        contexts.withLockedValue { contexts in
            // Bundles change rarely; dropping them all now and then keeps replaced ones from piling up.
            if contexts.count >= 64 { contexts.removeAll() }
            contexts[trust] = context
        }
        return context
    }

    /// Sets up HTTP/2 or HTTP/1.1 as ALPN chose, with the exchange on the request's channel (an HTTP/2 stream,
    /// or the connection).
    private static func negotiated(
        _ result: ALPNResult, channel: any Channel, makeExchange: @escaping @Sendable () -> OutboundExchange
    ) -> EventLoopFuture<Void> {
        if case .negotiated("h2") = result {
            return channel.eventLoop.makeCompletedFuture { () throws -> NIOHTTP2Handler.StreamMultiplexer in
                let sync = channel.pipeline.syncOperations
                return try sync.configureHTTP2Pipeline(
                    mode: .client, connectionConfiguration: NIOHTTP2Handler.ConnectionConfiguration(),
                    streamConfiguration: NIOHTTP2Handler.StreamConfiguration(),
                    position: .before(try sync.handler(type: ConnectionFailureReporter.self))
                ) { pushed in pushed.close() }
            }.flatMap { (multiplexer: NIOHTTP2Handler.StreamMultiplexer) in
                multiplexer.createStreamChannel { stream in
                    stream.eventLoop.makeCompletedFuture {
                        let sync = stream.pipeline.syncOperations
                        try sync.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .https))
                        try sync.addHandler(makeExchange())
                    }
                }.map { _ in }
            }
        }
        return channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            let reporter = try sync.handler(type: ConnectionFailureReporter.self)
            try sync.addHTTPClientHandlers(position: .before(reporter))
            try sync.addHandler(makeExchange(), position: .before(reporter))
        }
    }
}

/// Ends the connection's pipeline: a TLS or HTTP/2 failure, or the peer closing, before the response head
/// arrived fails the request (afterwards the exchange itself ends the body).
private final class ConnectionFailureReporter: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = Any

    private let head: EventLoopPromise<HTTPResponseHead>

    init(head: EventLoopPromise<HTTPResponseHead>) {
        self.head = head
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        head.fail(OutboundFailure(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        head.fail(OutboundFailure.closed)
        context.fireChannelInactive()
    }
}

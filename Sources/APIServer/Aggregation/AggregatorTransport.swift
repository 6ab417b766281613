import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Where one proxied request goes: the address to dial, the name the backend's serving certificate must carry,
/// and how it is trusted (an APIService's `caBundle`, or no check with `insecureSkipTLSVerify`).
struct AggregatorBackend: Sendable, Equatable {
    var host: String
    var port: Int
    /// `<service>.<namespace>.svc`, as upstream's service resolver names the backend for TLS.
    var serverName: String
    var caBundle: [UInt8]?
    var insecureSkipTLSVerify: Bool

    /// `https://host:port`, as upstream's messages show the location.
    var origin: String { "https://\(host):\(port)" }
}

/// A response head from a backend and its body as it arrives.
struct AggregatorResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: AsyncThrowingStream<[UInt8], any Error>
}

/// The aggregator's client to extension API servers: HTTP/1.1 over TLS, presenting the
/// `--proxy-client-cert-file` certificate, each request on its own connection so a watch streams for as long
/// as it lasts. The webhook client (`WebhookClient`) answers one buffered POST per call, which a proxy cannot
/// use for watches; this client shares its shape (one connection per call, TLS contexts cached per bundle).
final class AggregatorTransport: Sendable {
    private let group: any EventLoopGroup
    private let certificateChain: [NIOSSLCertificate]
    private let privateKey: NIOSSLPrivateKey?
    private let contexts = NIOLockedValueBox<[ContextKey: NIOSSLContext]>([:])

    private struct ContextKey: Hashable {
        var caBundle: [UInt8]
        var insecure: Bool
    }

    /// Reads the proxy client pair; nil files present no certificate (backends then see an anonymous proxy).
    init(
        certificateFile: String?, keyFile: String?,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        self.group = group
        if let certificateFile, let keyFile {
            certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile)
            privateKey = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } else {
            certificateChain = []
            privateKey = nil
        }
    }

    /// Sends `head` and `body` to `backend` and returns once the response head arrived (or fails, with Go's
    /// wording for the common dial failures). The body stream ends with the response; dropping it closes the
    /// connection. `timeout` bounds the wait for the head only.
    func send(_ head: HTTPRequestHead, body: [UInt8], to backend: AggregatorBackend, timeout: TimeAmount)
        async throws -> AggregatorResponse
    {
        let tls = try context(for: backend)
        let eventLoop = group.next()
        let headPromise = eventLoop.makePromise(of: HTTPResponseHead.self)
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        let deadline = eventLoop.scheduleTask(in: timeout) {
            headPromise.fail(AggregatorTransportError("context deadline exceeded"))
        }
        let connected = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: backend.serverName))
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(
                        ProxyResponseReader(
                            request: head, body: body, head: headPromise, continuation: continuation))
                }
            }
            .connect(host: backend.host, port: backend.port)
        connected.whenFailure { error in
            let failure = Self.dialFailure(error, backend: backend)
            headPromise.fail(failure)
            continuation.finish(throwing: failure)
        }
        headPromise.futureResult.whenComplete { result in
            deadline.cancel()
            if case .failure = result { connected.whenSuccess { $0.close(promise: nil) } }
        }
        continuation.onTermination = { _ in connected.whenSuccess { $0.close(promise: nil) } }
        let responseHead = try await headPromise.futureResult.get()
        return AggregatorResponse(status: responseHead.status, headers: responseHead.headers, body: stream)
    }

    private func context(for backend: AggregatorBackend) throws -> NIOSSLContext {
        let key = ContextKey(caBundle: backend.caBundle ?? [], insecure: backend.insecureSkipTLSVerify)
        if let context = contexts.withLockedValue({ $0[key] }) { return context }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.applicationProtocols = ["http/1.1"]
        if backend.insecureSkipTLSVerify {
            configuration.certificateVerification = .none
        } else if let bundle = backend.caBundle, !bundle.isEmpty {
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(bundle))
        }
        if let privateKey {
            configuration.certificateChain = certificateChain.map { .certificate($0) }
            configuration.privateKey = .privateKey(privateKey)
        }
        let context = try NIOSSLContext(configuration: configuration)
        contexts.withLockedValue { contexts in
            // Bundles change rarely; dropping them all now and then keeps replaced ones from piling up.
            if contexts.count >= 64 { contexts.removeAll() }
            contexts[key] = context
        }
        return context
    }

    /// Go's wording for the common dial failures, which upstream's availability messages carry.
    private static func dialFailure(_ error: any Error, backend: AggregatorBackend) -> AggregatorTransportError {
        let address = "\(backend.host):\(backend.port)"
        let refused =
            (error as? IOError)?.errnoCode == ECONNREFUSED
            || (error as? NIOConnectionError)?.connectionErrors.contains {
                ($0.error as? IOError)?.errnoCode == ECONNREFUSED
            } == true
        if refused { return AggregatorTransportError("dial tcp \(address): connect: connection refused") }
        if case .connectTimeout = error as? ChannelError {
            return AggregatorTransportError("dial tcp \(address): i/o timeout")
        }
        return AggregatorTransportError("dial tcp \(address): \(error)")
    }
}

/// Why a backend could not be reached, in Go's words.
struct AggregatorTransportError: Error, CustomStringConvertible, Sendable {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes the request once the connection is up and passes the response on: the head to a promise, the body
/// chunks to a stream, ended by the response's end or the connection's.
private final class ProxyResponseReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let request: HTTPRequestHead
    private let body: [UInt8]
    private let head: EventLoopPromise<HTTPResponseHead>
    private let continuation: AsyncThrowingStream<[UInt8], any Error>.Continuation
    private var sent = false

    init(
        request: HTTPRequestHead, body: [UInt8], head: EventLoopPromise<HTTPResponseHead>,
        continuation: AsyncThrowingStream<[UInt8], any Error>.Continuation
    ) {
        self.request = request
        self.body = body
        self.head = head
        self.continuation = continuation
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { send(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context: context)
        context.fireChannelActive()
    }

    private func send(context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        if !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let response):
            head.succeed(response)
        case .body(let buffer):
            continuation.yield(Array(buffer.readableBytesView))
        case .end:
            continuation.finish()
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        head.fail(AggregatorTransportError("EOF"))
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let failure = AggregatorTransportError(error is NIOSSLError ? "tls: \(error)" : "\(error)")
        head.fail(failure)
        continuation.finish(throwing: failure)
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ProxyResponseReader: Sendable {}

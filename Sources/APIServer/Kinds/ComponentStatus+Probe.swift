import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One `GET https://host:port/path` health probe as upstream's component-status prober makes it: the serving
/// certificate is not verified (the components serve self-signed ones), 2xx and 3xx are healthy with the body
/// as the message, anything else fails with `HTTP probe failed with statuscode: N`, and a failed call carries
/// Go's error text (`Get "https://127.0.0.1:10259/healthz": dial tcp …: connect: connection refused`).
public struct HealthProbe: Sendable {
    public var host: String
    public var port: Int
    public var path: String

    public init(host: String, port: Int, path: String) {
        self.host = host
        self.port = port
        self.path = path
    }

    var url: String { "https://\(host):\(port)\(path)" }

    /// Upstream reads at most 10 KiB of a probe's body.
    static let bodyLimit = 10 * 1024

    /// Whether the component answered healthy, and the message: its body, or why it is not healthy.
    func run(timeout: TimeAmount, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async -> (
        healthy: Bool, message: String
    ) {
        let prefix = "Get \"\(url)\": "
        let tls: NIOSSLContext
        do {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            tls = try NIOSSLContext(configuration: configuration)
        } catch {
            return (false, prefix + "tls: \(error)")
        }
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: (status: Int, body: [UInt8]).self)
        let deadline = eventLoop.scheduleTask(in: timeout) {
            promise.fail(ProbeFailure(message: "context deadline exceeded"))
        }
        let head = HTTPRequestHead(
            version: .http1_1, method: .GET, uri: path,
            headers: ["Host": "\(host):\(port)", "User-Agent": "kube-probe/1.32", "Accept": "*/*"])
        let connected = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    // A hostname for SNI only when the host is a name; IP addresses carry none, as in Go.
                    let serverName = Self.isAddress(host) ? nil : host
                    try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(ProbeCollector(head: head, promise: promise))
                }
            }
            .connect(host: host, port: port)
        connected.whenFailure { promise.fail(Self.dialFailure($0, address: "\(host):\(port)")) }
        promise.futureResult.whenComplete { _ in
            deadline.cancel()
            connected.whenSuccess { $0.close(promise: nil) }
        }
        do {
            let (status, body) = try await promise.futureResult.get()
            guard (200..<400).contains(status) else {
                return (false, "HTTP probe failed with statuscode: \(status)")
            }
            return (true, String(decoding: body, as: UTF8.self))
        } catch let failure as ProbeFailure {
            return (false, prefix + failure.message)
        } catch {
            return (false, prefix + "\(error)")
        }
    }

    static func isAddress(_ host: String) -> Bool {
        host.contains(":") || host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
    }

    /// Go's wording for a refused or timed-out dial.
    static func dialFailure(_ error: any Error, address: String) -> ProbeFailure {
        let refused = { (error: any Error) in (error as? IOError)?.errnoCode == ECONNREFUSED }
        if refused(error)
            || (error as? NIOConnectionError)?.connectionErrors.contains(where: { refused($0.error) }) == true
        {
            return ProbeFailure(message: "dial tcp \(address): connect: connection refused")
        }
        if case .connectTimeout = error as? ChannelError { return ProbeFailure(message: "context deadline exceeded") }
        return ProbeFailure(message: "dial tcp \(address): \(error)")
    }
}

/// Why a probe got no answer, in Go's words.
struct ProbeFailure: Error, Sendable {
    var message: String
}

/// Sends the GET once the connection is up and collects the status and the first `bodyLimit` bytes.
private final class ProbeCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let head: HTTPRequestHead
    private let promise: EventLoopPromise<(status: Int, body: [UInt8])>
    private var status = 0
    private var body: [UInt8] = []

    init(head: HTTPRequestHead, promise: EventLoopPromise<(status: Int, body: [UInt8])>) {
        self.head = head
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let response):
            status = Int(response.status.code)
        case .body(let buffer):
            body += buffer.readableBytesView.prefix(HealthProbe.bodyLimit - body.count)
        case .end:
            promise.succeed((status, body))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ProbeFailure(message: "EOF"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(ProbeFailure(message: (error as? NIOSSLError).map { "tls: \($0)" } ?? "\(error)"))
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ProbeCollector: Sendable {}

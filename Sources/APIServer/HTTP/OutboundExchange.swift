import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Why an outbound request failed, in Go's words: what upstream's messages carry after `Post "<url>": `.
enum OutboundFailure: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidCABundle(String)
    case connectionRefused(address: String)
    /// The dial itself ran out of time.
    case connectTimeout(address: String)
    case dial(address: String, reason: String)
    /// The request's deadline passed first.
    case deadlineExceeded
    case tls(String)
    /// The peer closed before the response head.
    case closed
    /// The peer closed in the middle of the body.
    case truncated
    /// The body passed a reader's limit.
    case tooLarge(limit: Int)
    case other(String)

    var description: String {
        switch self {
        case .invalidCABundle(let reason): "tls: invalid caBundle: \(reason)"
        case .connectionRefused(let address): "dial tcp \(address): connect: connection refused"
        case .connectTimeout(let address): "dial tcp \(address): i/o timeout"
        case .dial(let address, let reason): "dial tcp \(address): \(reason)"
        case .deadlineExceeded: "context deadline exceeded"
        case .tls(let reason): "tls: \(reason)"
        case .closed: "EOF"
        case .truncated: "unexpected EOF"
        case .tooLarge(let limit): "response larger than \(limit) bytes"
        case .other(let reason): reason
        }
    }

    /// A failure on an open connection.
    init(_ error: any Error) {
        if let failure = error as? OutboundFailure {
            self = failure
        } else if error is NIOSSLError || error is NIOSSLExtraError {
            self = .tls("\(error)")
        } else {
            self = .other("\(error)")
        }
    }

    /// A failure to connect, with Go's wording for the common ones.
    static func dial(_ error: any Error, address: String) -> OutboundFailure {
        let refused =
            (error as? IOError)?.errnoCode == ECONNREFUSED
            || (error as? NIOConnectionError)?.connectionErrors.contains {
                ($0.error as? IOError)?.errnoCode == ECONNREFUSED
            } == true
        if refused { return .connectionRefused(address: address) }
        if case .connectTimeout = error as? ChannelError { return .connectTimeout(address: address) }
        return .dial(address: address, reason: OutboundFailure(error).description)
    }
}

/// Writes one request on its channel (the connection, or an HTTP/2 stream) once that is active, and passes the
/// response on: the head to a promise, the body chunks to the body's source, holding the channel's reads while
/// the reader is behind. Every way a request ends (the body's end, the reader leaving, a failure, the peer
/// closing) goes through here, so each one ends the body and the connection exactly once.
final class OutboundExchange: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private enum State {
        case idle
        case awaitingHead
        case streaming
        case done
    }

    private let request: OutboundRequest
    private let head: EventLoopPromise<HTTPResponseHead>
    private let body: OutboundBody.Chunks.Source
    /// How the body's reader reaches this handler; emptied once the request ended.
    private let box: NIOLoopBoundBox<OutboundExchange?>
    private var state = State.idle
    private var context: ChannelHandlerContext?
    /// The reader is behind: a read the channel asks for waits until it caught up.
    private var readsHeld = false
    private var readPending = false

    init(
        request: OutboundRequest, head: EventLoopPromise<HTTPResponseHead>, body: OutboundBody.Chunks.Source,
        box: NIOLoopBoundBox<OutboundExchange?>
    ) {
        self.request = request
        self.head = head
        self.body = body
        self.box = box
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        box.value = self
        if context.channel.isActive { send(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        end(with: .closed)
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context: context)
        context.fireChannelActive()
    }

    private func send(context: ChannelHandlerContext) {
        guard case .idle = state else { return }
        state = .awaitingHead
        let requestHead = HTTPRequestHead(
            version: .http1_1, method: request.method, uri: request.uri, headers: request.headers)
        context.write(wrapOutboundOut(.head(requestHead)), promise: nil)
        if !request.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: request.body)))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let response):
            guard case .awaitingHead = state else { return }
            state = .streaming
            head.succeed(response)
        case .body(let buffer):
            guard case .streaming = state else { return }
            switch body.yield(Array(buffer.readableBytesView)) {
            case .produceMore: break
            case .stopProducing: readsHeld = true
            case .dropped: close()
            }
        case .end:
            guard case .streaming = state else { return }
            state = .done
            body.finish()
            // One request per connection: what is left unread is already in the body's buffer.
            close()
        }
    }

    func read(context: ChannelHandlerContext) {
        if readsHeld {
            readPending = true
        } else {
            context.read()
        }
    }

    /// The reader caught up: the read the channel asked for meanwhile goes ahead.
    func resumeReading() {
        readsHeld = false
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(with: isStreaming ? .truncated : .closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        abort(OutboundFailure(error))
    }

    /// Ends the request with `failure` (a deadline, or an error on the connection) and closes the connection.
    func abort(_ failure: OutboundFailure) {
        end(with: failure)
        close()
    }

    /// Closes the whole connection, not just an HTTP/2 stream: it carries this one request only.
    func close() {
        guard let channel = context?.channel else { return }
        (channel.parent ?? channel).close(promise: nil)
    }

    private var isStreaming: Bool {
        if case .streaming = state { return true }
        return false
    }

    private func end(with failure: OutboundFailure) {
        switch state {
        case .idle, .awaitingHead:
            head.fail(failure)
            body.finish(failure)
        case .streaming: body.finish(failure)
        case .done: return
        }
        state = .done
    }
}

@available(*, unavailable)
extension OutboundExchange: Sendable {}

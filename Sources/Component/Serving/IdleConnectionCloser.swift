import NIOCore

/// Closes a connection that has read nothing for ``timeout``, as Go's `http.Server` closes idle keep-alive
/// connections in upstream's secure serving, so a client that connects and goes quiet (or never finishes its
/// TLS handshake) does not hold a connection open for ever.
///
/// The timer runs on the event loop's clock alone (NIO's `IdleStateHandler` also reads the wall clock), so an
/// `EmbeddedEventLoop` can drive it in tests.
final class IdleConnectionCloser: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// Upstream's `IdleTimeout`, chosen there to match Go's client keep-alive.
    static let timeout = TimeAmount.seconds(90)

    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount = IdleConnectionCloser.timeout) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { restartTimer(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        restartTimer(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    /// Sits in front of TLS, so handshake bytes count as activity too.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        restartTimer(context)
        context.fireChannelRead(data)
    }

    private func restartTimer(_ context: ChannelHandlerContext) {
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension IdleConnectionCloser: Sendable {}

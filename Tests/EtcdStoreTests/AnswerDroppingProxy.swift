import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A loopback TCP proxy in front of an etcd member that, when armed, lets the next request through but
/// drops the member's answer and cuts the connection: the write landed, the client never heard. What a
/// member dying right after applying a write looks like to the client.
final class AnswerDroppingProxy: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let server: any Channel
    private let armed: NIOLockedValueBox<Bool>

    private init(group: MultiThreadedEventLoopGroup, server: any Channel, armed: NIOLockedValueBox<Bool>) {
        self.group = group
        self.server = server
        self.armed = armed
    }

    /// Listens on a free loopback port and forwards to `host:port`.
    static func start(forwardingTo host: String, port: Int) async throws -> AnswerDroppingProxy {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let armed = NIOLockedValueBox(false)
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                // The client's side is set up only once the member's side is connected, so no byte waits.
                ClientBootstrap(group: inbound.eventLoop)
                    .channelInitializer { outbound in
                        outbound.eventLoop.makeCompletedFuture {
                            try outbound.pipeline.syncOperations.addHandler(
                                ProxyGlue(peer: inbound, dropsAnswers: armed))
                        }
                    }
                    .connect(host: host, port: port)
                    .flatMap { outbound in
                        inbound.eventLoop.makeCompletedFuture {
                            try inbound.pipeline.syncOperations.addHandler(ProxyGlue(peer: outbound, dropsAnswers: nil))
                        }
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return AnswerDroppingProxy(group: group, server: server, armed: armed)
    }

    var url: String { "http://127.0.0.1:\(server.localAddress?.port ?? 0)" }

    /// The next answer carrying a message (a DATA frame) is dropped and its connection cut.
    func dropNextAnswer() { armed.withLockedValue { $0 = true } }

    /// Whether the armed drop has happened.
    var dropped: Bool { !armed.withLockedValue { $0 } }

    func stop() async throws {
        try await server.close()
        try await group.shutdownGracefully()
    }
}

/// Copies one direction of a proxied connection to its peer. On the member's side (`dropsAnswers`) it
/// reads HTTP/2 frame boundaries, so an armed proxy cuts at the first response message, after the
/// member's unprompted frames (SETTINGS, PING, WINDOW_UPDATE).
private final class ProxyGlue: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let peer: any Channel
    private let dropsAnswers: NIOLockedValueBox<Bool>?
    private var carry = ByteBuffer()

    init(peer: any Channel, dropsAnswers: NIOLockedValueBox<Bool>?) {
        self.peer = peer
        self.dropsAnswers = dropsAnswers
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        if let dropsAnswers, carriesMessage(bytes),
            dropsAnswers.withLockedValue({ armed in
                defer { armed = false }
                return armed
            })
        {
            context.close(promise: nil)
            peer.close(promise: nil)
            return
        }
        peer.writeAndFlush(bytes, promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        peer.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Whether a complete DATA frame ends in these bytes (frames may span reads).
    private func carriesMessage(_ bytes: ByteBuffer) -> Bool {
        var incoming = bytes
        carry.writeBuffer(&incoming)
        var found = false
        while let header = carry.getInteger(at: carry.readerIndex, as: UInt32.self),
            carry.readableBytes >= 9 + Int(header >> 8)
        {
            if (header & 0xFF) == 0 { found = true }
            carry.moveReaderIndex(forwardBy: 9 + Int(header >> 8))
        }
        carry.discardReadBytes()
        return found
    }
}

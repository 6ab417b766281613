import NIOCore

/// Between the socket (or TLS) and HTTP/2: every call's stream flushes the connection, so many calls
/// started in one event-loop tick would each cost a write syscall, a TCP segment and a wake-up of the
/// member's reader. This handler turns all flushes of a tick into one, at the end of the tick, as
/// grpc-go's writer flushes only once its queue is empty, so the member reads many frames per syscall.
final class GRPCFlushCoalescer: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private var flushPending = false

    func flush(context: ChannelHandlerContext) {
        guard !flushPending else { return }
        flushPending = true
        // A task queued now runs after the tasks already queued for this tick (the other calls' writes)
        // and before the loop next waits for I/O, so a flush is late by microseconds, never by a poll.
        context.eventLoop.assumeIsolated().execute { [self] in
            flushPending = false
            context.flush()
        }
    }
}

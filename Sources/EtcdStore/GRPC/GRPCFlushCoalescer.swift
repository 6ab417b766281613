import NIOCore

/// Between the socket (or TLS) and HTTP/2: every call's stream flushes the connection, so many calls
/// started in one event-loop tick would each cost a write syscall, a TCP segment and a wake-up of the
/// member's reader. This handler turns all flushes of a tick into one, at the end of the tick, as
/// grpc-go's writer flushes only once its queue is empty, so the member reads many frames per syscall.
///
/// While other unary calls await their answers, more writes are on their way (each answer lets its
/// caller send the next call, and etcd's flow-control PINGs want an ACK), so the flush waits up to
/// `delay` to take them along: under load etcd then wakes once for several calls, as grpc-go's writer
/// yields once before flushing a small batch. A call on an idle connection leaves at the end of the tick.
final class GRPCFlushCoalescer: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let delay: TimeAmount
    private let activity: GRPCConnectionActivity?
    private var flushPending = false

    init(delay: TimeAmount = .zero, activity: GRPCConnectionActivity? = nil) {
        self.delay = delay
        self.activity = activity
    }

    func flush(context: ChannelHandlerContext) {
        guard !flushPending else { return }
        flushPending = true
        let loop = context.eventLoop.assumeIsolated()
        if delay > .zero, let activity, activity.callsAwaitingAnswers > 1 {
            loop.scheduleTask(in: delay) { [self] in flushNow(context: context) }
        } else {
            // A task queued now runs after the tasks already queued for this tick (the other calls'
            // writes) and before the loop next waits for I/O, so a flush is late by microseconds.
            loop.execute { [self] in flushNow(context: context) }
        }
    }

    private func flushNow(context: ChannelHandlerContext) {
        flushPending = false
        context.flush()
    }
}

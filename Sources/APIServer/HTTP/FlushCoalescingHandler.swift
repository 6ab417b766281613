import NIOCore

/// Between TLS and HTTP: every response flushes its connection, so the responses of an HTTP/2 connection's
/// streams that finish in one event-loop tick would each cost a TLS flush, a write syscall and a TCP segment.
/// This handler turns all flushes of a tick into one, at the end of the tick, so a busy connection sends
/// several responses per syscall. A close flushes first, so nothing written before it (a GOAWAY) is lost.
final class FlushCoalescingHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private var flushPending = false

    func flush(context: ChannelHandlerContext) {
        guard !flushPending else { return }
        flushPending = true
        // A task queued now runs after the tasks already queued for this tick (the other streams' writes) and
        // before the loop next waits for I/O, so a flush is late by microseconds, never by a poll.
        context.eventLoop.assumeIsolated().execute { [self] in
            guard flushPending else { return }
            flushPending = false
            context.flush()
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if flushPending {
            flushPending = false
            context.flush()
        }
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if flushPending {
            flushPending = false
            context.flush()
        }
    }
}

@available(*, unavailable)
extension FlushCoalescingHandler: Sendable {}

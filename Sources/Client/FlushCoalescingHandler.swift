import NIOCore

/// Between TLS and HTTP/2 on a client connection: every request stream flushes its connection, so the requests
/// a busy client starts in one event-loop tick (a bench's creates, a scheduler's bindings and events) would each
/// cost a TLS flush, a write syscall and a TCP segment, and the server as many reads. All flushes of a tick become
/// one at its end, as the API server's own `FlushCoalescingHandler` does for responses. A close flushes first,
/// so nothing written before it is lost.
final class FlushCoalescingHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private var flushPending = false

    func flush(context: ChannelHandlerContext) {
        guard !flushPending else { return }
        flushPending = true
        // Runs after the tasks already queued for this tick (the other streams' writes) and before the loop next
        // waits for I/O: a flush is late by microseconds, never by a poll.
        context.eventLoop.assumeIsolated().execute { [self] in
            guard flushPending else { return }
            flushPending = false
            context.flush()
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        flushNow(context: context)
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        flushNow(context: context)
    }

    private func flushNow(context: ChannelHandlerContext) {
        guard flushPending else { return }
        flushPending = false
        context.flush()
    }
}

@available(*, unavailable)
extension FlushCoalescingHandler: Sendable {}

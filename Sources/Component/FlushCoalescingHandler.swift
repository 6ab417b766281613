public import NIOCore

/// Between TLS and HTTP, on the API server's connections and the client's: every response (or request) flushes
/// its connection, so the streams of an HTTP/2 connection that finish in one event-loop tick would each cost a
/// TLS flush, a write syscall and a TCP segment. This handler turns all flushes of a tick into one, at the end
/// of the tick, so a busy connection sends several messages per syscall. A close flushes first, so nothing
/// written before it (a GOAWAY) is lost.
///
/// The tick's small writes (HTTP/2 frame headers, HEADERS frames, small bodies) are also copied into one
/// buffer, so TLS seals them as one record rather than one per write (three per response); large ones
/// (list chunks) go as they are, after what was gathered before them.
public final class FlushCoalescingHandler: ChannelOutboundHandler, RemovableChannelHandler {
    public typealias OutboundIn = IOData
    public typealias OutboundOut = IOData

    /// Writes up to this size are gathered; copying more would cost more than the records it saves.
    public static let gatheredLimit = 16 * 1024

    private var flushPending = false
    private var gathered: ByteBuffer?
    private var gatheredPromises: [EventLoopPromise<Void>] = []

    public init() {}

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .byteBuffer(var buffer) = unwrapOutboundIn(data), buffer.readableBytes <= Self.gatheredLimit else {
            writeGathered(context: context)
            context.write(data, promise: promise)
            return
        }
        if gathered == nil { gathered = context.channel.allocator.buffer(capacity: 4096) }
        gathered?.writeBuffer(&buffer)
        if let promise { gatheredPromises.append(promise) }
    }

    public func flush(context: ChannelHandlerContext) {
        guard !flushPending else { return }
        flushPending = true
        // A task queued now runs after the tasks already queued for this tick (the other streams' writes) and
        // before the loop next waits for I/O, so a flush is late by microseconds, never by a poll.
        context.eventLoop.assumeIsolated().execute { [self] in
            guard flushPending else { return }
            flushPending = false
            writeGathered(context: context)
            context.flush()
        }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        writeGathered(context: context)
        if flushPending {
            flushPending = false
            context.flush()
        }
        context.close(mode: mode, promise: promise)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        writeGathered(context: context)
        if flushPending {
            flushPending = false
            context.flush()
        }
    }

    /// Passes on what was gathered as one write, whose outcome completes every gathered write's promise.
    private func writeGathered(context: ChannelHandlerContext) {
        guard let buffer = gathered, buffer.readableBytes > 0 else { return }
        gathered = nil
        let promise: EventLoopPromise<Void>?
        switch gatheredPromises.count {
        case 0:
            promise = nil
        case 1:
            promise = gatheredPromises[0]
        default:
            let promises = gatheredPromises
            let combined = context.eventLoop.makePromise(of: Void.self)
            combined.futureResult.whenComplete { result in
                for waiting in promises { waiting.completeWith(result) }
            }
            promise = combined
        }
        gatheredPromises.removeAll(keepingCapacity: true)
        context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
    }
}

@available(*, unavailable)
extension FlushCoalescingHandler: Sendable {}

import NIOCore
import NIOHPACK
import NIOHTTP2

/// Between an HTTP/2 stream's HTTP/1 codec and the stream: makes each response's frames cheaper for both ends
/// without changing what the client reads.
///
/// - The codec ends every response with an empty DATA frame carrying END_STREAM; the flag is set on the frame
///   before it instead (as Go's server sends it), one frame less per response through the connection's state
///   machine, flow control and encoder. The last frame is held only until the next write or flush.
/// - `Audit-Id` goes out as a literal HPACK never adds to the connection's dynamic table. Every response has a
///   new one: indexed, each evicted older entries of the 4 KiB table, which filled with dead IDs that NIO's
///   encoder scans linearly for every header of every response, and the headers that do repeat
///   (`content-type`…) were evicted and sent as literals again.
final class HTTP2ResponseFrameHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private var held: (payload: HTTP2Frame.FramePayload, promise: EventLoopPromise<Void>?)?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var payload = unwrapOutboundIn(data)
        switch payload {
        case .headers(var headers):
            if headers.headers.contains(name: "audit-id") {
                headers.headers = Self.literalAuditID(headers.headers)
                payload = .headers(headers)
            }
        case .data(let data) where data.endStream && data.paddingBytes == nil && data.data.readableBytes == 0:
            if let merged = held.flatMap({ Self.ending($0.payload) }) {
                let first = held?.promise
                held = nil
                if let first, let promise { first.futureResult.cascade(to: promise) }
                context.write(wrapOutboundOut(merged), promise: first ?? promise)
                return
            }
        default:
            break
        }
        release(context: context)
        switch payload {
        case .headers(let headers) where !headers.endStream:
            held = (payload, promise)
        case .data(let data) where !data.endStream:
            held = (payload, promise)
        default:
            context.write(wrapOutboundOut(payload), promise: promise)
        }
    }

    func flush(context: ChannelHandlerContext) {
        release(context: context)
        context.flush()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        release(context: context)
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release(context: context)
    }

    /// Writes the held frame, if any.
    private func release(context: ChannelHandlerContext) {
        guard let held else { return }
        self.held = nil
        context.write(wrapOutboundOut(held.payload), promise: held.promise)
    }

    /// `payload` with END_STREAM set, when it is a frame that can carry it.
    private static func ending(_ payload: HTTP2Frame.FramePayload) -> HTTP2Frame.FramePayload? {
        switch payload {
        case .headers(var headers):
            headers.endStream = true
            return .headers(headers)
        case .data(var data):
            data.endStream = true
            return .data(data)
        default:
            return nil
        }
    }

    private static func literalAuditID(_ headers: HPACKHeaders) -> HPACKHeaders {
        var rewritten = HPACKHeaders()
        rewritten.reserveCapacity(headers.count)
        for (name, value, indexing) in headers {
            rewritten.add(name: name, value: value, indexing: name == "audit-id" ? .nonIndexable : indexing)
        }
        return rewritten
    }
}

@available(*, unavailable)
extension HTTP2ResponseFrameHandler: Sendable {}

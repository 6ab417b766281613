import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Where one response goes: an HTTP/1.1 connection (`HTTP1ResponseSink`) or an HTTP/2 stream
/// (`HTTP2StreamSink`), so `ResponseWriter` writes both through one code path. `write`, `flush` and `close` are
/// called on `eventLoop`; `abort` from anywhere.
protocol ResponseSink: Sendable {
    var eventLoop: any EventLoop { get }
    /// Queues a part of the response; it leaves at the next `flush`. The promise completes once it reached the
    /// socket, or fails when the connection or stream is gone.
    func write(_ part: HTTPServerResponsePart, promise: EventLoopPromise<Void>?)
    func flush()
    /// After a response whose head asked for it (`Connection: close`): HTTP/1.1 closes the connection; an HTTP/2
    /// stream has ended with its response, so nothing happens.
    func close()
    /// Gives up on a response already begun: HTTP/1.1 closes the connection, HTTP/2 resets the stream.
    func abort()
}

extension ResponseSink {
    /// Writes `parts` and flushes, from any thread (at once when on the sink's loop); the future completes once
    /// the last part reached the socket. `written` is called with that outcome on the loop, registered there, so
    /// a caller off the loop pays no second hop for it.
    func send(
        _ parts: HTTPServerResponsePart..., written: (@Sendable (Result<Void, any Error>) -> Void)? = nil
    ) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        let write: @Sendable () -> Void = {
            if let written { promise.futureResult.whenComplete(written) }
            for part in parts.dropLast() { self.write(part, promise: nil) }
            if let last = parts.last { self.write(last, promise: promise) } else { promise.succeed() }
            self.flush()
        }
        if eventLoop.inEventLoop { write() } else { eventLoop.execute(write) }
        return promise.futureResult
    }
}

/// An HTTP/1.1 connection's pipeline: the parts go to `HTTPResponseEncoder`.
struct HTTP1ResponseSink: ResponseSink {
    let channel: any Channel

    var eventLoop: any EventLoop { channel.eventLoop }
    func write(_ part: HTTPServerResponsePart, promise: EventLoopPromise<Void>?) {
        channel.write(part, promise: promise)
    }
    func flush() { channel.flush() }
    func close() { channel.close(promise: nil) }
    func abort() { channel.close(promise: nil) }
}

/// The bytes of a streamed response handed to its sink and not yet on the socket (or failed), counted from any
/// thread, so a writer can tell when to wait for the client: the sum of write promises not completed covers
/// both an HTTP/2 stream's exhausted window and a connection whose socket is full.
final class UnwrittenBytes: Sendable {
    private let count = NIOLockedValueBox(0)

    /// Counts `bytes` more; returns the new total.
    func add(_ bytes: Int) -> Int {
        count.withLockedValue {
            $0 += bytes
            return $0
        }
    }

    func remove(_ bytes: Int) { count.withLockedValue { $0 -= bytes } }
}

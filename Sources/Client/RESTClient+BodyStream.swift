import NIOConcurrencyHelpers
public import NIOCore

/// An open streamed response (a watch in any format) whose body goes, undecoded, to the caller's handler.
/// Cancelling resets the HTTP/2 stream, which ends the request server-side.
public final class BodyStream: Sendable {
    private let state = NIOLockedValueBox<(request: StreamCancelHandle?, cancelled: Bool)>((nil, false))

    fileprivate init() {}

    /// Ends the stream; its `finished` handler then runs with the reset's error, if it has not run yet.
    public func cancel() {
        let request = state.withLockedValue { state in
            state.cancelled = true
            return state.request
        }
        request?.cancel()
    }

    fileprivate func attach(_ request: StreamCancelHandle) {
        let cancelled = state.withLockedValue { state in
            state.request = request
            return state.cancelled
        }
        if cancelled { request.cancel() }
    }
}

/// Hands body bytes straight to the caller on the stream's event loop.
private struct BodyForwarder: StreamBodyConsumer {
    let stream: BodyStream
    let receive: @Sendable (ByteBuffer) -> Void
    let finished: @Sendable ((any Error)?) -> Void

    func attach(to request: StreamCancelHandle) { stream.attach(request) }
    func receive(_ buffer: ByteBuffer) throws { receive(buffer) }
    func finish(_ error: (any Error)?) { finished(error) }
}

extension RESTClient {
    /// Sends `request` (a GET whose answer streams, such as `watch=true` in JSON or protobuf) and returns once the
    /// 2xx head arrived. Each chunk of the body is handed to `receive` on the connection's event loop as it
    /// arrives, with no framing or decoding, for callers that do their own (a bench timing each event's arrival
    /// without a task hop); `finished` runs once when the body ends, with nil when it ended cleanly. A non-2xx
    /// answer throws `StatusError`.
    public func streamBody(
        _ request: Request, receive: @escaping @Sendable (ByteBuffer) -> Void,
        finished: @escaping @Sendable ((any Error)?) -> Void
    ) async throws -> BodyStream {
        let stream = BodyStream()
        let head = try await perform(
            request, consumer: BodyForwarder(stream: stream, receive: receive, finished: finished), timeout: nil)
        guard head.isSuccess else { throw StatusError(response: head) }
        return stream
    }
}

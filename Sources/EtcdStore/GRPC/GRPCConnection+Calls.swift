import NIOConcurrencyHelpers
import NIOCore

extension GRPCConnection {
    /// One request, one response. Cancelling the task resets the stream.
    func unary(path: String, request: ByteBuffer, timeout: TimeAmount?) async throws(GRPCStatusError) -> ByteBuffer {
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let stream = openCall(
            path: path, unary: true, timeout: timeout, firstMessage: request, observer: UnaryObserver(promise))
        do {
            return try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                stream.cancel()
            }
        } catch let error as GRPCStatusError {
            throw error
        } catch {
            throw .unavailable("\(error)", sent: true)
        }
    }

    /// Sends one request on a streaming method and returns the first response `accept` takes, then
    /// closes the stream (a lease keep-alive, or a one-off watch that reads a revision).
    func firstResponse(
        path: String, request: ByteBuffer, timeout: TimeAmount, accept: @escaping @Sendable (ByteBuffer) -> Bool
    ) async throws(GRPCStatusError) -> ByteBuffer {
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let observer = FirstResponseObserver(promise: promise, accept: accept)
        let stream = openCall(path: path, unary: false, timeout: timeout, firstMessage: request, observer: observer)
        promise.futureResult.whenComplete { _ in stream.cancel() }
        do {
            return try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                stream.cancel()
            }
        } catch let error as GRPCStatusError {
            throw error
        } catch {
            throw .unavailable("\(error)", sent: true)
        }
    }
}

/// Completes a promise with the single response of a unary call.
private final class UnaryObserver: GRPCCallObserver {
    private let promise: EventLoopPromise<ByteBuffer>
    private let response = NIOLockedValueBox<ByteBuffer?>(nil)

    init(_ promise: EventLoopPromise<ByteBuffer>) { self.promise = promise }

    func received(_ message: ByteBuffer) { response.withLockedValue { $0 = message } }

    func finished(_ error: GRPCStatusError?) {
        if let error { return promise.fail(error) }
        guard let message = response.withLockedValue({ $0 }) else {
            return promise.fail(GRPCStatusError(code: .internal, message: "unary call ended without a response"))
        }
        promise.succeed(message)
    }
}

/// Completes a promise with the first accepted response of a streaming call.
private final class FirstResponseObserver: GRPCCallObserver {
    private let promise: EventLoopPromise<ByteBuffer>
    private let accept: @Sendable (ByteBuffer) -> Bool

    init(promise: EventLoopPromise<ByteBuffer>, accept: @escaping @Sendable (ByteBuffer) -> Bool) {
        self.promise = promise
        self.accept = accept
    }

    func received(_ message: ByteBuffer) { if accept(message) { promise.succeed(message) } }

    func finished(_ error: GRPCStatusError?) {
        promise.fail(error ?? GRPCStatusError(code: .internal, message: "stream ended without a response"))
    }
}

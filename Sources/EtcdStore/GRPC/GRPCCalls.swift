import HTTP2Streams
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP2

/// A connection's gRPC calls: each is one stream of the connection's `HTTP2StreamTable`, a table entry and its
/// frames rather than a child channel. Keeps the counts the keepalive and the flush coalescer read, the calls'
/// deadlines, and ends each call exactly once. Confined to the connection's event loop.
final class GRPCCalls {
    let table: HTTP2StreamTable
    private let activity: GRPCConnectionActivity
    private let goingAway: NIOLockedValueBox<Bool>

    init(table: HTTP2StreamTable, activity: GRPCConnectionActivity, goingAway: NIOLockedValueBox<Bool>) {
        self.table = table
        self.activity = activity
        self.goingAway = goingAway
    }

    /// Opens the call's stream: HEADERS and the first message (if any) leave in one flush.
    func start(_ call: GRPCCall) {
        guard table.isActive, !goingAway.withLockedValue({ $0 }) else {
            _ = call.finish(.unavailable("connection closed", sent: false))
            return
        }
        call.owner = self
        guard let id = table.open(call) else {
            goingAway.withLockedValue { $0 = true }
            _ = call.finish(.unavailable("connection ran out of stream IDs", sent: false))
            return
        }
        call.streamID = id
        // The first call after a quiet spell starts the silence clock: no PING for an idle gap.
        if activity.openCalls == 0 { activity.lastRead = .now() }
        activity.openCalls += 1
        if call.halfCloseAfterFirstMessage { activity.callsAwaitingAnswers += 1 }
        if let deadline = call.deadline, let loop = table.eventLoop {
            call.timeoutTask = loop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
                end(call, GRPCStatusError(code: .deadlineExceeded, message: "context deadline exceeded"))
            }
        }
        table.write(.headers(.init(headers: call.headers)), on: id)
        if let message = call.firstMessage {
            call.firstMessage = nil
            if let payload = call.frame(message, allocator: table.allocator) { table.write(payload, on: id) }
        }
        table.flush()
    }

    /// Sends a later request message of a streaming call; dropped once the call has ended.
    func send(_ message: ByteBuffer, on call: GRPCCall) {
        guard let id = call.streamID, let payload = call.frame(message, allocator: table.allocator) else { return }
        table.write(payload, on: id)
        table.flush()
    }

    /// Abandons a call: the observer learns it was cancelled, the member gets RST_STREAM.
    func cancel(_ call: GRPCCall) {
        end(call, GRPCStatusError(code: .cancelled, message: "context canceled"))
    }

    /// Finishes a call once, resets its stream if it is still open and forgets it.
    func end(_ call: GRPCCall, _ error: GRPCStatusError?) {
        guard call.finish(error.map { call.pastDeadline($0) }) else { return }
        activity.openCalls -= 1
        if call.halfCloseAfterFirstMessage { activity.callsAwaitingAnswers -= 1 }
        guard let id = call.streamID else { return }
        if call.needsReset {
            call.streamClosed()
            table.reset(id)
        } else {
            table.forget(id)
        }
    }
}

/// A call that was started, for its owner off the event loop: later messages and cancellation hop onto the
/// connection's loop (or run at once when already on it).
struct GRPCCallStream: Sendable {
    let call: NIOLoopBoundBox<GRPCCall>
    let calls: NIOLoopBound<GRPCCalls>

    /// Opens the call's stream (`GRPCConnection.openCall` does, once).
    func start() {
        onLoop { $0.start($1) }
    }

    /// Sends one more request message (streaming calls).
    func send(_ message: ByteBuffer) {
        onLoop { $0.send(message, on: $1) }
    }

    /// Ends the call: its observer gets `cancelled` unless it had already finished.
    func cancel() {
        onLoop { $0.cancel($1) }
    }

    private func onLoop(_ body: @escaping @Sendable (GRPCCalls, GRPCCall) -> Void) {
        let loop = calls.eventLoop
        if loop.inEventLoop {
            body(calls.value, call.value)
        } else {
            loop.execute { body(calls.value, call.value) }
        }
    }
}

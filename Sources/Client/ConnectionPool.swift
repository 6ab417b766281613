import NIOConcurrencyHelpers
import NIOCore
import NIOHPACK

/// What a pool slot holds: an HTTP/2 connection, or plain HTTP/1.1's set of connections to one server.
protocol PooledConnection: AnyObject, Sendable {
    /// Where its requests' promises are made.
    var eventLoop: any EventLoop { get }
    /// False once it takes no new streams; the slot then connects afresh.
    var isUsable: Bool { get }
    /// Completes once it is closed.
    var closeFuture: EventLoopFuture<Void> { get }
    /// Sends one request; its `StreamHandler` answers `response`, failing it with `StreamNotOpened` when the
    /// request was never sent. The returned handle cancels the request.
    func openStream(
        headers: HPACKHeaders, body: ByteBuffer?, response: EventLoopPromise<Response>,
        consumer: (any StreamBodyConsumer)?, timeout: TimeAmount?
    ) -> StreamCancelHandle
    func close()
}

/// A fixed number of connection slots, used round-robin. A slot connects on first use and
/// again after its connection died or received GOAWAY, so callers never hold a dead connection for long.
final class ConnectionPool: Sendable {
    /// One slot's protocol state.
    private enum Slot {
        case empty
        /// A connect is under way; `attempt` tells a late completion whether the slot still waits for it.
        case connecting(EventLoopFuture<any PooledConnection>, attempt: Int)
        case ready(any PooledConnection)
    }

    private struct State {
        var slots: [Slot]
        var next = 0
        var attempts = 0
        var isShutdown = false
        /// Clients using the pool; the last one's `release()` shuts it down.
        var users = 1
    }

    /// What `connection()` decided under the lock, done after releasing it.
    private enum Decision {
        case use(any PooledConnection)
        case wait(EventLoopFuture<any PooledConnection>)
        case connect(slot: Int, attempt: Int, promise: EventLoopPromise<any PooledConnection>)
        case fail(ClientError)
    }

    private let state: NIOLockedValueBox<State>
    private let group: any EventLoopGroup
    private let connector: @Sendable (any EventLoop) -> EventLoopFuture<any PooledConnection>

    init(
        size: Int, group: any EventLoopGroup,
        connector: @escaping @Sendable (any EventLoop) -> EventLoopFuture<any PooledConnection>
    ) {
        state = NIOLockedValueBox(State(slots: Array(repeating: .empty, count: max(1, size))))
        self.group = group
        self.connector = connector
    }

    /// Connections opened so far, including reconnects.
    var connectionsOpened: Int { state.withLockedValue { $0.attempts } }

    /// A usable connection, connecting the chosen slot if needed.
    func connection() -> EventLoopFuture<any PooledConnection> {
        let decision = state.withLockedValue { state -> Decision in
            guard !state.isShutdown else { return .fail(.shutdown) }
            let index = state.next % state.slots.count
            state.next &+= 1
            switch state.slots[index] {
            case .ready(let connection) where connection.isUsable:
                return .use(connection)
            case .connecting(let future, _):
                return .wait(future)
            case .empty, .ready:
                state.attempts += 1
                let promise = group.next().makePromise(of: (any PooledConnection).self)
                state.slots[index] = .connecting(promise.futureResult, attempt: state.attempts)
                return .connect(slot: index, attempt: state.attempts, promise: promise)
            }
        }
        switch decision {
        case .use(let connection):
            return connection.eventLoop.makeSucceededFuture(connection)
        case .wait(let future):
            return future
        case .fail(let error):
            return group.next().makeFailedFuture(error)
        case .connect(let slot, let attempt, let promise):
            promise.futureResult.whenComplete { result in self.settle(slot: slot, attempt: attempt, result: result) }
            connector(promise.futureResult.eventLoop).cascade(to: promise)
            return promise.futureResult
        }
    }

    private func settle(slot: Int, attempt: Int, result: Result<any PooledConnection, any Error>) {
        enum Outcome {
            case nothing
            case watch(any PooledConnection)
            case close(any PooledConnection)
        }
        let outcome = state.withLockedValue { state -> Outcome in
            guard case .connecting(_, let current) = state.slots[slot], current == attempt else {
                return .nothing
            }
            switch result {
            case .success(let connection):
                if state.isShutdown {
                    state.slots[slot] = .empty
                    return .close(connection)
                }
                state.slots[slot] = .ready(connection)
                return .watch(connection)
            case .failure:
                // The next request tries again rather than inheriting this failure forever.
                state.slots[slot] = .empty
                return .nothing
            }
        }
        // Outside the lock: an already-closed channel runs the callback at once, and it takes the lock.
        switch outcome {
        case .nothing: break
        case .close(let connection): connection.close()
        case .watch(let connection):
            connection.closeFuture.whenComplete { _ in self.forget(connection, slot: slot) }
        }
    }

    private func forget(_ connection: any PooledConnection, slot: Int) {
        state.withLockedValue { state in
            if case .ready(let current) = state.slots[slot], current === connection {
                state.slots[slot] = .empty
            }
        }
    }

    /// The HTTP/2 connections currently held (for diagnostics and tests).
    func openConnections() -> [HTTP2Connection] {
        state.withLockedValue { state in
            state.slots.compactMap { slot in
                if case .ready(let connection) = slot { return connection as? HTTP2Connection }
                return nil
            }
        }
    }

    /// One more client uses the pool; false once it is shut down.
    func retain() -> Bool {
        state.withLockedValue { state in
            guard !state.isShutdown else { return false }
            state.users += 1
            return true
        }
    }

    /// A client is done with the pool: the last one shuts it down.
    func release() async {
        let last = state.withLockedValue { state in
            state.users -= 1
            return state.users <= 0
        }
        if last { await shutdown() }
    }

    /// Closes every connection; later requests fail with `ClientError.shutdown`.
    func shutdown() async {
        let open = state.withLockedValue { state -> [any PooledConnection] in
            state.isShutdown = true
            var open: [any PooledConnection] = []
            // Slots still connecting are closed by `settle` when their connect completes.
            for (index, slot) in state.slots.enumerated() {
                if case .ready(let connection) = slot {
                    open.append(connection)
                    state.slots[index] = .empty
                }
            }
            return open
        }
        for connection in open {
            connection.close()
            try? await connection.closeFuture.get()
        }
    }
}

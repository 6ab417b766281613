import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import SwiftProtobuf

/// The etcd v3 client: a few HTTP/2 connections to one member (a call made on one of the group's event
/// loops takes that loop's connection, other calls take the shared ones in turn; the watch stream lives on
/// the first), all moved to the next member when the current one dies, is partitioned (a call's
/// deadline passes) or has no leader, with backoff once every member failed. Calls that may have
/// reached a member are retried only when the caller says a retry is safe; `EtcdStore` makes every
/// write a compare-and-swap so that it can tell whether a first attempt landed (see
/// `EtcdStore+Writes.swift`).
final class EtcdClient: Sendable {
    let configuration: EtcdConfiguration
    private let tls: NIOSSLContext?
    /// One event loop per connection slot: first the `configuration.connections` shared slots, then one
    /// for each other loop of the group.
    private let eventLoops: [any EventLoop]
    /// The slots that calls made off the group's loops take in turn.
    private let sharedSlots: Int
    /// The slot of each loop's own connection (its first), for the calls made on that loop.
    private let slotOfLoop: [ObjectIdentifier: Int]
    private let state: NIOLockedValueBox<State>
    let logger: Logger

    private struct State {
        var endpointIndex = 0
        var slots: [Slot]
        /// The shared slot the next unary call made off the group's loops takes.
        var nextSlot = 0
        var closed = false
    }

    /// One connection of the pool: the live one, or the attempt under way.
    private struct Slot {
        var connection: GRPCConnection?
        var connecting: EventLoopFuture<GRPCConnection>?
        var connectingTo: GRPCEndpoint?
    }

    init(
        configuration: EtcdConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "etcd-client")
    ) throws {
        guard !configuration.endpoints.isEmpty else { throw EtcdConfigurationError("no etcd endpoints") }
        self.configuration = configuration
        self.tls = try configuration.makeTLSContext()
        let shared = (0..<max(configuration.connections, 1)).map { _ in group.next() }
        let others = group.makeIterator().filter { loop in !shared.contains { $0 === loop } }
        self.eventLoops = shared + others
        self.sharedSlots = shared.count
        self.slotOfLoop = Dictionary(
            eventLoops.enumerated().map { (ObjectIdentifier($0.element), $0.offset) }, uniquingKeysWith: min)
        self.state = NIOLockedValueBox(State(slots: Array(repeating: Slot(), count: eventLoops.count)))
        self.logger = logger
    }

    func close() {
        let connections = state.withLockedValue { state in
            state.closed = true
            defer { state.slots = state.slots.map { _ in Slot() } }
            return state.slots.compactMap(\.connection)
        }
        for connection in connections { connection.close() }
    }

    /// The connection for one unary call: the one on the caller's event loop, so the call is written and
    /// its answer resumes the caller without waking another thread; else the next shared one in turn. On 2
    /// cores shared with etcd, API creates were faster this way in 13 of 14 alternating pairs (one binary,
    /// switched by an environment variable), by a median of about 10 %.
    func connection() async throws(GRPCStatusError) -> GRPCConnection {
        if let current = MultiThreadedEventLoopGroup.currentEventLoop, let own = slotOfLoop[ObjectIdentifier(current)] {
            return try await connection(slot: own)
        }
        let slot = state.withLockedValue { state in
            defer { state.nextSlot = (state.nextSlot + 1) % sharedSlots }
            return state.nextSlot
        }
        return try await connection(slot: slot)
    }

    /// The connection of `slot` (0 carries the watch stream), connecting to the current member first
    /// when it has none.
    func connection(slot: Int) async throws(GRPCStatusError) -> GRPCConnection {
        var lost: GRPCEndpoint?
        let found = state.withLockedValue { state -> Result<EventLoopFuture<GRPCConnection>, GRPCStatusError> in
            if state.closed { return .failure(.unavailable("etcd client is closed", sent: false)) }
            let endpoint = configuration.endpoints[state.endpointIndex % configuration.endpoints.count]
            if let connection = state.slots[slot].connection {
                if connection.isUsable, connection.endpoint == endpoint {
                    return .success(connection.channel.eventLoop.makeSucceededFuture(connection))
                }
                state.slots[slot].connection = nil
                if connection.isUsable {
                    // Another slot left this member: follow it, so no slot keeps calling a member that failed.
                    connection.close()
                } else {
                    // It ended on its own (the member closed it, sent GOAWAY, or missed a keepalive): as
                    // etcd's balancer does, try the next member rather than the one that just failed.
                    Self.leave(connection.endpoint, state: &state, endpoints: configuration.endpoints)
                    lost = connection.endpoint
                }
            }
            if let connecting = state.slots[slot].connecting { return .success(connecting) }
            let target = configuration.endpoints[state.endpointIndex % configuration.endpoints.count]
            let future = GRPCConnection.connect(
                to: target, tls: tls, connectTimeout: configuration.dialTimeout,
                keepAlive: GRPCKeepAlive(time: configuration.keepAliveTime, timeout: configuration.keepAliveTimeout),
                flushDelay: configuration.flushDelay, eventLoop: eventLoops[slot])
            state.slots[slot].connecting = future
            state.slots[slot].connectingTo = target
            return .success(future)
        }
        if let lost { logger.warning("lost the connection to etcd member \(lost); trying the next member") }
        let pending = try found.get()
        do {
            let connection = try await pending.get()
            state.withLockedValue { state in
                if state.slots[slot].connecting === pending {
                    state.slots[slot].connecting = nil
                    state.slots[slot].connection = connection
                }
            }
            return connection
        } catch let error as GRPCStatusError {
            connectFailed(pending, slot: slot, error)
            throw error
        } catch {
            let failure = GRPCStatusError.unavailable("\(error)", sent: false)
            connectFailed(pending, slot: slot, failure)
            throw failure
        }
    }

    /// Moves on to the next member when `endpoint` is the current one; the other slots' connections to
    /// the same member then follow to that next member rather than each skipping one further.
    private static func leave(_ endpoint: GRPCEndpoint, state: inout State, endpoints: [GRPCEndpoint]) {
        if endpoints[state.endpointIndex % endpoints.count] == endpoint { state.endpointIndex += 1 }
    }

    /// Clears the slot's failed attempt (once, whichever of the calls waiting on it comes first) and
    /// moves past its member.
    private func connectFailed(_ attempt: EventLoopFuture<GRPCConnection>, slot: Int, _ error: GRPCStatusError) {
        state.withLockedValue { state in
            guard state.slots[slot].connecting === attempt else { return }
            state.slots[slot].connecting = nil
            if let endpoint = state.slots[slot].connectingTo {
                Self.leave(endpoint, state: &state, endpoints: configuration.endpoints)
            }
        }
        logger.debug("etcd connection failed: \(error)")
    }

    /// Drops `connection` (when a slot still holds it) and moves to the next member.
    func abandon(_ connection: GRPCConnection, because error: GRPCStatusError) {
        let current = state.withLockedValue { state -> Bool in
            guard let slot = state.slots.firstIndex(where: { $0.connection === connection }) else { return false }
            state.slots[slot].connection = nil
            Self.leave(connection.endpoint, state: &state, endpoints: configuration.endpoints)
            return true
        }
        if current {
            logger.warning("leaving etcd member \(connection.endpoint): \(error.message)")
            connection.close()
        }
    }

    /// How long to wait before the next attempt: nothing while untried members remain, then
    /// exponential from 50 ms up to 2 s.
    private func backoff(attempt: Int) -> Duration {
        let members = configuration.endpoints.count
        guard attempt >= members else { return .zero }
        let round = min((attempt - members) / members, 5)
        return .milliseconds(50 << round)
    }

    /// True once every member refused connections twice in a row: the cluster is down, and callers
    /// (an API request, /readyz) learn it at once rather than after the whole retry budget.
    private func givesUp(unreachable: Int) -> Bool { unreachable >= 2 * configuration.endpoints.count }

    /// Whether a failed call should be tried again (on another member for transport-level failures).
    private func isRetryable(_ error: GRPCStatusError) -> Bool {
        switch error.code {
        case .unavailable, .deadlineExceeded: true
        default: false
        }
    }

    /// True for failures that say the member itself is unusable, not just busy.
    private func leavesMember(_ error: GRPCStatusError) -> Bool {
        switch error.code {
        case .deadlineExceeded: true
        case .unavailable:
            !error.mayHaveBeenSent || error.message.contains("no leader")
                || error.message.contains("connection closed") || error.message.contains("connection lost")
        default: false
        }
    }

    /// What happened to a call that was retried: the response, and whether an earlier attempt may have
    /// been applied by etcd (sent, then the answer was lost).
    struct Outcome<Response> {
        var response: Response
        var earlierAttemptMayHaveLanded: Bool
    }

    /// Calls a unary method, retrying across members within the retry budget. `mayRetryAfterSend`:
    /// whether an attempt that may have reached etcd can be repeated (reads, and writes whose compare
    /// makes a repetition fail).
    func call<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ path: String, _ request: Request, mayRetryAfterSend: Bool, timeout: TimeAmount? = nil,
        retry: Bool = true
    ) async throws(GRPCStatusError) -> Outcome<Response> {
        let bytes: ByteBuffer
        do { bytes = ByteBuffer(bytes: try request.serializedBytes() as [UInt8]) } catch {
            throw GRPCStatusError(code: .internal, message: "cannot encode request: \(error)", mayHaveBeenSent: false)
        }
        let deadline = ContinuousClock.now + configuration.retryBudget
        var attempt = 0
        var unreachable = 0
        var maybeLanded = false
        while true {
            var connection: GRPCConnection?
            do throws(GRPCStatusError) {
                let current = try await self.connection()
                connection = current
                let answer = try await current.unary(
                    path: path, request: bytes, timeout: timeout ?? configuration.callTimeout)
                do {
                    let response = try Response(serializedBytes: Array(answer.readableBytesView))
                    return Outcome(response: response, earlierAttemptMayHaveLanded: maybeLanded)
                } catch {
                    throw GRPCStatusError(code: .internal, message: "cannot decode response: \(error)")
                }
            } catch {
                if error.code == .cancelled || Task.isCancelled { throw error }
                if let connection, leavesMember(error) { abandon(connection, because: error) }
                let sent = error.mayHaveBeenSent
                unreachable = sent ? 0 : unreachable + 1
                guard retry, isRetryable(error), !sent || mayRetryAfterSend, ContinuousClock.now < deadline,
                    !givesUp(unreachable: unreachable)
                else { throw error }
                if sent { maybeLanded = true }
                attempt += 1
                let pause = backoff(attempt: attempt)
                if pause > .zero {
                    do { try await Task.sleep(for: pause) } catch {
                        throw GRPCStatusError(code: .cancelled, message: "context canceled")
                    }
                }
            }
        }
    }

    /// Sends one request on a streaming method and returns the first response `accept` takes,
    /// retrying across members like `call` (used for lease keep-alives and one-off watches).
    func firstResponse<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ path: String, _ request: Request, accept: @escaping @Sendable (Response) -> Bool
    ) async throws(GRPCStatusError) -> Response {
        let bytes: ByteBuffer
        do { bytes = ByteBuffer(bytes: try request.serializedBytes() as [UInt8]) } catch {
            throw GRPCStatusError(code: .internal, message: "cannot encode request: \(error)", mayHaveBeenSent: false)
        }
        let deadline = ContinuousClock.now + configuration.retryBudget
        var attempt = 0
        var unreachable = 0
        while true {
            var connection: GRPCConnection?
            do throws(GRPCStatusError) {
                let current = try await self.connection()
                connection = current
                let answer = try await current.firstResponse(
                    path: path, request: bytes, timeout: configuration.callTimeout
                ) { buffer in
                    (try? Response(serializedBytes: Array(buffer.readableBytesView))).map(accept) ?? false
                }
                do { return try Response(serializedBytes: Array(answer.readableBytesView)) } catch {
                    throw GRPCStatusError(code: .internal, message: "cannot decode response: \(error)")
                }
            } catch {
                if error.code == .cancelled || Task.isCancelled { throw error }
                if let connection, leavesMember(error) { abandon(connection, because: error) }
                unreachable = error.mayHaveBeenSent ? 0 : unreachable + 1
                guard isRetryable(error), ContinuousClock.now < deadline, !givesUp(unreachable: unreachable)
                else { throw error }
                attempt += 1
                let pause = backoff(attempt: attempt)
                if pause > .zero {
                    do { try await Task.sleep(for: pause) } catch {
                        throw GRPCStatusError(code: .cancelled, message: "context canceled")
                    }
                }
            }
        }
    }
}

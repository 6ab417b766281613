import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import SwiftProtobuf

/// The etcd v3 client: one HTTP/2 connection at a time to one member, moved to the next member when
/// the current one dies, is partitioned (a call's deadline passes) or has no leader, with backoff once
/// every member failed. Calls that may have reached a member are retried only when the caller says a
/// retry is safe; `EtcdStore` makes every write a compare-and-swap so that it can tell whether a first
/// attempt landed (see `EtcdStore+Writes.swift`).
final class EtcdClient: Sendable {
    let configuration: EtcdConfiguration
    private let tls: NIOSSLContext?
    private let eventLoop: any EventLoop
    private let state = NIOLockedValueBox(State())
    let logger: Logger

    private struct State {
        var endpointIndex = 0
        var connection: GRPCConnection?
        var connecting: EventLoopFuture<GRPCConnection>?
        var closed = false
    }

    init(
        configuration: EtcdConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "etcd-client")
    ) throws {
        guard !configuration.endpoints.isEmpty else { throw EtcdConfigurationError("no etcd endpoints") }
        self.configuration = configuration
        self.tls = try configuration.makeTLSContext()
        self.eventLoop = group.next()
        self.logger = logger
    }

    func close() {
        let connection = state.withLockedValue { state in
            state.closed = true
            defer { state.connection = nil }
            return state.connection
        }
        connection?.close()
    }

    /// The current connection, connecting to the current member first when there is none.
    func connection() async throws(GRPCStatusError) -> GRPCConnection {
        var lost: GRPCEndpoint?
        let found = state.withLockedValue { state -> Result<EventLoopFuture<GRPCConnection>, GRPCStatusError> in
            if state.closed { return .failure(.unavailable("etcd client is closed", sent: false)) }
            if let connection = state.connection {
                if connection.isUsable { return .success(eventLoop.makeSucceededFuture(connection)) }
                // It ended on its own (the member closed it, sent GOAWAY, or missed a keepalive): as etcd's
                // balancer does, try the next member rather than the one that just failed.
                state.connection = nil
                state.endpointIndex += 1
                lost = connection.endpoint
            }
            if let connecting = state.connecting { return .success(connecting) }
            let endpoint = configuration.endpoints[state.endpointIndex % configuration.endpoints.count]
            let future = GRPCConnection.connect(
                to: endpoint, tls: tls, connectTimeout: configuration.dialTimeout,
                keepAlive: GRPCKeepAlive(time: configuration.keepAliveTime, timeout: configuration.keepAliveTimeout),
                eventLoop: eventLoop)
            state.connecting = future
            return .success(future)
        }
        if let lost { logger.warning("lost the connection to etcd member \(lost); trying the next member") }
        let pending = try found.get()
        do {
            let connection = try await pending.get()
            state.withLockedValue { state in
                if state.connecting === pending {
                    state.connecting = nil
                    state.connection = connection
                }
            }
            return connection
        } catch let error as GRPCStatusError {
            connectFailed(pending, error)
            throw error
        } catch {
            let failure = GRPCStatusError.unavailable("\(error)", sent: false)
            connectFailed(pending, failure)
            throw failure
        }
    }

    private func connectFailed(_ attempt: EventLoopFuture<GRPCConnection>, _ error: GRPCStatusError) {
        state.withLockedValue { state in
            guard state.connecting === attempt else { return }
            state.connecting = nil
            state.endpointIndex += 1
        }
        logger.debug("etcd connection failed: \(error)")
    }

    /// Drops `connection` (when it is still the current one) and moves to the next member.
    func abandon(_ connection: GRPCConnection, because error: GRPCStatusError) {
        let current = state.withLockedValue { state -> Bool in
            guard state.connection === connection else { return false }
            state.connection = nil
            state.endpointIndex += 1
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

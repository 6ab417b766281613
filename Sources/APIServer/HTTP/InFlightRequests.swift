import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP2
import Synchronization

/// The open connections and the requests being served on them, so a graceful shutdown can tell clients to go
/// elsewhere, end watches cleanly and wait for the rest to finish.
///
/// A request is counted from the moment its head is read until its response is written; a watch (any
/// streamed response) is counted apart, since it never finishes by itself and is ended with ``endStreams()``.
/// An ordinary request costs two atomic additions and an atomic load, no lock: only connections and watches,
/// which are few and long-lived, are kept under the lock.
final class InFlightRequests: Sendable {
    private struct State {
        var connections: [ObjectIdentifier: any Channel] = [:]
        var streams: [UInt64: Task<Void, Never>] = [:]
        var nextStreamID: UInt64 = 0
        var quiescing = false
        var endingStreams = false
    }

    private let state = NIOLockedValueBox(State())
    /// Requests begun and not yet finished, watches aside.
    private let requests = Atomic<Int>(0)
    /// `State.quiescing`, read without the lock by every response.
    private let quiescing = Atomic<Bool>(false)

    /// Tracks `channel` until it closes; a connection accepted while quiescing is told to close at once.
    func connectionOpened(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        let quiescing = state.withLockedValue { state in
            state.connections[key] = channel
            return state.quiescing
        }
        channel.closeFuture.whenComplete { [self] _ in
            _ = state.withLockedValue { $0.connections.removeValue(forKey: key) }
        }
        if quiescing { Self.quiesce(channel) }
    }

    /// Counts a request whose head was just read, until ``finished()`` or ``streaming(_:)``.
    func begin() {
        requests.add(1, ordering: .relaxed)
    }

    /// A request's response is written.
    func finished() {
        requests.subtract(1, ordering: .releasing)
    }

    /// A request answers with a stream written by `task`: it no longer holds up the drain, and `task` is
    /// cancelled with the other streams; the id goes to ``streamFinished(_:)``.
    func streaming(_ task: Task<Void, Never>) -> UInt64 {
        let (id, cancel) = state.withLockedValue { state in
            state.nextStreamID += 1
            state.streams[state.nextStreamID] = task
            return (state.nextStreamID, state.endingStreams)
        }
        requests.subtract(1, ordering: .releasing)
        if cancel { task.cancel() }
        return id
    }

    /// Stream `id` ended.
    func streamFinished(_ id: UInt64) {
        _ = state.withLockedValue { $0.streams.removeValue(forKey: id) }
    }

    /// True once a shutdown began: HTTP/1.1 responses then ask the client to close the connection.
    var isQuiescing: Bool { quiescing.load(ordering: .acquiring) }

    /// Tells every connection to take no new requests: HTTP/1.1 ones close once their current response is
    /// written, HTTP/2 ones get a GOAWAY so clients open their next stream elsewhere.
    func quiesce() {
        let channels = state.withLockedValue { state in
            state.quiescing = true
            quiescing.store(true, ordering: .releasing)
            return Array(state.connections.values)
        }
        for channel in channels { Self.quiesce(channel) }
    }

    private static func quiesce(_ channel: any Channel) {
        channel.pipeline.handler(type: NIOHTTP2Handler.self).whenComplete { result in
            switch result {
            case .success:
                // The highest stream ID: streams the client already opened are still served.
                let goAway = HTTP2Frame(
                    streamID: .rootStream, payload: .goAway(lastStreamID: .maxID, errorCode: .noError, opaqueData: nil))
                channel.writeAndFlush(goAway, promise: nil)
            case .failure:
                channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            }
        }
    }

    /// Ends every watch now and any that starts later: each stream is closed cleanly (the final chunk, or
    /// END_STREAM), so clients see an ordinary end and watch again, elsewhere.
    func endStreams() {
        let tasks = state.withLockedValue { state in
            state.endingStreams = true
            return Array(state.streams.values)
        }
        for task in tasks { task.cancel() }
    }

    /// Requests being answered, watches aside.
    var requestCount: Int { requests.load(ordering: .acquiring) }

    /// Watches still streaming.
    var streamCount: Int { state.withLockedValue { $0.streams.count } }
}

import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP2

/// The open connections and the requests being served on them, so a graceful shutdown can tell clients to go
/// elsewhere, end watches cleanly and wait for the rest to finish.
///
/// A request is counted from the moment its head is read until its response is written; a watch (any
/// streamed response) is counted apart, since it never finishes by itself and is ended with ``endStreams()``.
final class InFlightRequests: Sendable {
    private struct Entry {
        var streaming = false
        var task: Task<Void, Never>?
    }

    private struct State {
        var connections: [ObjectIdentifier: any Channel] = [:]
        var requests: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
        var quiescing = false
        var endingStreams = false
    }

    private let state = NIOLockedValueBox(State())

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

    /// Counts a request whose head was just read; its id goes to ``attach(_:task:)`` and ``finished(_:)``.
    func begin() -> UInt64 {
        state.withLockedValue { state in
            state.nextID += 1
            state.requests[state.nextID] = Entry()
            return state.nextID
        }
    }

    /// The task serving request `id`, which ``endStreams()`` cancels if the response turns out to be a stream.
    func attach(_ id: UInt64, task: Task<Void, Never>) {
        let cancel = state.withLockedValue { state -> Bool in
            guard state.requests[id] != nil else { return false }
            state.requests[id]?.task = task
            return state.endingStreams && state.requests[id]?.streaming == true
        }
        if cancel { task.cancel() }
    }

    /// Request `id` answers with a stream: it no longer holds up the drain, and ends with the other streams.
    func streaming(_ id: UInt64) {
        let task = state.withLockedValue { state -> Task<Void, Never>? in
            state.requests[id]?.streaming = true
            return state.endingStreams ? state.requests[id]?.task : nil
        }
        task?.cancel()
    }

    /// Request `id`'s response is written (or its stream ended).
    func finished(_ id: UInt64) {
        _ = state.withLockedValue { $0.requests.removeValue(forKey: id) }
    }

    /// True once a shutdown began: HTTP/1.1 responses then ask the client to close the connection.
    var isQuiescing: Bool { state.withLockedValue { $0.quiescing } }

    /// Tells every connection to take no new requests: HTTP/1.1 ones close once their current response is
    /// written, HTTP/2 ones get a GOAWAY so clients open their next stream elsewhere.
    func quiesce() {
        let channels = state.withLockedValue { state in
            state.quiescing = true
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
            return state.requests.values.filter(\.streaming).compactMap(\.task)
        }
        for task in tasks { task.cancel() }
    }

    /// Requests being answered, watches aside.
    var requestCount: Int { state.withLockedValue { $0.requests.values.count { !$0.streaming } } }

    /// Watches still streaming.
    var streamCount: Int { state.withLockedValue { $0.requests.values.count(where: \.streaming) } }
}

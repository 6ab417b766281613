import Client
import NIOConcurrencyHelpers

/// The watch bench's watchers: many watches on one client's HTTP/2 connections (streams multiplexed, as
/// client-go's informers share a transport), each timing its events on the connection's event loop as the bytes
/// arrive, before any decoding, and recording them in the shared ledger.
struct BenchWatchers {
    let client: RESTClient
    /// The collection watched: one namespace's ConfigMaps, or every namespace's.
    let path: String
    let format: BenchWatchFormat
    let names: BenchWatchNames
    let ledger: NIOLockedValueBox<BenchWatchLedger>

    /// Opens `count` watches from `resourceVersion`, one after another (each returns once the server accepted
    /// it, so every create sent afterwards is owed to all of them); the caller cancels them at the end.
    func open(_ count: Int, from resourceVersion: String) async throws -> [BodyStream] {
        var streams: [BodyStream] = []
        streams.reserveCapacity(count)
        do {
            for watcher in 0..<count {
                streams.append(try await open(watcher, from: resourceVersion))
            }
        } catch {
            for stream in streams { stream.cancel() }
            throw error
        }
        return streams
    }

    private func open(_ watcher: Int, from resourceVersion: String) async throws -> BodyStream {
        let request = Request(
            method: .get, path: path,
            query: ["watch": "true", "resourceVersion": resourceVersion, "allowWatchBookmarks": "true"],
            headers: [Header(name: "accept", value: format.accept)])
        let reader = NIOLockedValueBox(BenchWatchFrameReader(format: format, names: names))
        let ledger = self.ledger
        return try await client.streamBody(request) { buffer in
            let arrival = ContinuousClock.now
            // Only this stream's event loop calls here; the reader's lock is never contended.
            let events = reader.withLockedValue { $0.append(buffer.readableBytesView) }
            guard !events.added.isEmpty || events.other > 0 else { return }
            ledger.withLockedValue { ledger in
                for create in events.added { ledger.received(create, watcher: watcher, at: arrival) }
                if events.other > 0 { ledger.receivedOther(events.other) }
            }
        } finished: { error in
            ledger.withLockedValue { $0.watchEnded(reason: error.map { "\($0)" } ?? "the server ended the watch") }
        }
    }
}

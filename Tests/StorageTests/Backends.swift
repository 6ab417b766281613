import Foundation
import Storage
import Testing

/// One storage backend under the conformance suite. To add a backend, append a `Backend` to
/// `Backend.all`; each call of `open` must return a store ready for one test.
///
/// Tests never assume an empty store: they write under `prefix` (unique per test) and compare
/// revisions relative to what they read first, so a shared server (etcd) can be used. The few
/// checks that need a store nobody else writes to are gated by `isolated`.
struct Backend: Sendable, CustomTestStringConvertible {
    let name: String
    /// True when no one else writes to the store during a test (then revisions are consecutive).
    let isolated: Bool
    let open: @Sendable () async throws -> OpenedStore

    var testDescription: String { name }

    static let all: [Backend] = [.memory, .sqlite] + etcdIfInstalled

    static let memory = Backend(name: "memory", isolated: true) {
        let store = MemoryStore()
        return OpenedStore(store: store) { store.close() }
    }

    static let sqlite = Backend(name: "sqlite", isolated: true) {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(path: directory.path("store.sqlite"))
        return OpenedStore(store: store) {
            try store.close()
            directory.remove()
        }
    }
}

/// A store opened for one test, with what must run after it.
struct OpenedStore: Sendable {
    let store: any KeyValueStore
    let cleanup: @Sendable () async throws -> Void
}

/// Runs `body` with a fresh store of `backend` and a key prefix unique to this call.
func withStore(_ backend: Backend, _ body: (_ store: any KeyValueStore, _ prefix: String) async throws -> Void)
    async throws
{
    let opened = try await backend.open()
    let prefix = "/test/\(UUID().uuidString.lowercased())/"
    do { try await body(opened.store, prefix) } catch {
        try? await opened.cleanup()
        throw error
    }
    try await opened.cleanup()
}

/// A directory under the system's temporary directory, removed by `remove()`.
struct TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("kubeswift-storage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Consumes a watch stream in the background so tests can wait for a number of events.
/// Dropping or cancelling it stops the consumption, which ends the watch.
final class EventCollector: Sendable {
    private final class Box: @unchecked Sendable {
        let lock = NSLock()
        var events: [WatchEvent] = []
        var progress: [Revision] = []
        var failure: (any Error)?
        var finished = false
    }

    private let box = Box()
    private let task: Task<Void, Never>

    convenience init<Events: AsyncSequence & Sendable>(_ stream: Events) where Events.Element == WatchEvent {
        self.init(updates: stream.map { WatchUpdate.event($0) })
    }

    /// Collects events and progress notifications.
    init<Updates: AsyncSequence & Sendable>(updates stream: Updates) where Updates.Element == WatchUpdate {
        let box = self.box
        task = Task {
            do {
                for try await update in stream {
                    box.lock.withLock {
                        switch update {
                        case .event(let event): box.events.append(event)
                        case .progress(let revision): box.progress.append(revision)
                        }
                    }
                }
            } catch {
                box.lock.withLock { box.failure = error }
            }
            box.lock.withLock { box.finished = true }
        }
    }

    /// The progress notifications received so far.
    var progress: [Revision] { box.lock.withLock { box.progress } }

    deinit { task.cancel() }

    var snapshot: (events: [WatchEvent], failure: (any Error)?, finished: Bool) {
        box.lock.withLock { (box.events, box.failure, box.finished) }
    }

    /// Waits until `count` events arrived (or the stream ended) and returns them all.
    func wait(for count: Int, timeout: Duration = .seconds(15)) async throws -> [WatchEvent] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (events, failure, finished) = snapshot
            if events.count >= count { return events }
            if let failure { throw failure }
            if finished || ContinuousClock.now > deadline {
                Issue.record("watch delivered \(events.count) of \(count) events (finished: \(finished))")
                return events
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits for the stream to end and returns its error, if any.
    func waitForEnd(timeout: Duration = .seconds(15)) async throws -> (any Error)? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (_, failure, finished) = snapshot
            if finished { return failure }
            try await Task.sleep(for: .milliseconds(5))
        }
        Issue.record("watch did not end within \(timeout)")
        return nil
    }

    func cancel() { task.cancel() }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func prefixEnd(_ prefix: String) -> String { MemoryStore.prefixEnd(prefix) }

/// Expects `body` to throw exactly `expected`.
func expectError<T>(
    _ expected: StorageError, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
) async {
    do {
        _ = try await body()
        Issue.record("expected \(expected), got success", sourceLocation: sourceLocation)
    } catch let error as StorageError { #expect(error == expected, sourceLocation: sourceLocation) } catch {
        Issue.record("expected \(expected), got \(error)", sourceLocation: sourceLocation)
    }
}

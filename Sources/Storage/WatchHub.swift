/// The in-process watchers of one store. The store publishes every committed event here, in
/// revision order and from one writer at a time, so each watcher's stream is ordered by construction.
///
/// A watcher starts *pending*: events published after `register` are buffered while the store
/// replays history up to the returned `liveFrom` revision, and `activate` then flushes the buffer
/// and switches the watcher to live delivery. That closes the gap between replay and live events
/// without holding the store's write serialization during a long replay.
///
/// Progress notifications work as etcd's: every `progressInterval`, each live watcher that asked for them
/// and got no event since the last round hears the last published revision. Publishing and notifying
/// share the lock, so a notification never overtakes an event.
final class WatchHub: Sendable {
    typealias Continuation = AsyncThrowingStream<WatchUpdate, any Error>.Continuation

    private struct Watcher {
        let range: KeyRange
        let after: Revision
        let continuation: Continuation
        let progressNotify: Bool
        /// Non-nil while the store is replaying history into the continuation.
        var pending: [WatchEvent]?
        /// Whether an event reached the watcher since the last progress round.
        var heardSinceProgress = false
    }

    private struct State {
        var watchers: [Int: Watcher] = [:]
        var nextID = 0
        var lastPublished: Revision
        var closedWith: StorageError?
        var progressTimer: Task<Void, Never>?
        /// A progress request came while a commit may be between its revision and its publish: the next
        /// publish answers it again, so the requester hears that commit's revision too.
        var progressRequested = false
    }

    private let state: Locked<State>
    let progressInterval: Duration

    init(revision: Revision, progressInterval: Duration = .seconds(1)) {
        state = Locked(State(lastPublished: revision))
        self.progressInterval = progressInterval
    }

    deinit { state.withLock { $0.progressTimer?.cancel() } }

    /// Registers a pending watcher; returns nil (after finishing the stream) when the hub is closed.
    /// `liveFrom` is the last revision published before registration: the store must replay
    /// `(after, liveFrom]` itself before calling `activate`.
    func register(range: KeyRange, after: Revision, progressNotify: Bool, continuation: Continuation) -> (
        id: Int, liveFrom: Revision
    )? {
        let registered = state.withLock { state -> (id: Int, liveFrom: Revision)? in
            if state.closedWith != nil { return nil }
            let id = state.nextID
            state.nextID += 1
            state.watchers[id] = Watcher(
                range: range, after: after, continuation: continuation, progressNotify: progressNotify, pending: [])
            if progressNotify, state.progressTimer == nil { state.progressTimer = startProgressTimer() }
            return (id, state.lastPublished)
        }
        guard let registered else {
            continuation.finish(throwing: state.withLock { $0.closedWith } ?? .unavailable("store closed"))
            return nil
        }
        // onTermination may run synchronously inside finish(), so it must never be set while a
        // lock that `remove` takes is held; setting it here, unlocked, is safe.
        continuation.onTermination = { [weak self] _ in self?.remove(registered.id) }
        return registered
    }

    /// Flushes events buffered during replay and makes the watcher live.
    func activate(_ id: Int) {
        state.withLock { state in
            guard let watcher = state.watchers[id], let pending = watcher.pending else { return }
            for event in pending {
                if case .terminated = watcher.continuation.yield(.event(event)) {
                    state.watchers[id] = nil
                    return
                }
            }
            state.watchers[id]?.pending = nil
        }
    }

    func remove(_ id: Int) { state.withLock { _ = $0.watchers.removeValue(forKey: id) } }

    /// Delivers committed events; the caller must serialize calls in revision order.
    func publish(_ events: [WatchEvent]) {
        guard let last = events.last else { return }
        state.withLock { state in
            state.lastPublished = last.revision
            if state.watchers.isEmpty { return }
            var gone: [Int] = []
            var index = state.watchers.startIndex
            while index != state.watchers.endIndex {
                if !Self.deliver(events, to: &state.watchers.values[index]) { gone.append(state.watchers.keys[index]) }
                index = state.watchers.index(after: index)
            }
            for id in gone { state.watchers[id] = nil }
            if state.progressRequested {
                state.progressRequested = false
                Self.sendProgress(&state, force: true)
            }
        }
    }

    /// Hands `events` to one watcher, reached in place: reading its fields through the dictionary's getter
    /// copied the whole watcher for each (perf of SQLite creates: a store has a watcher per watch cache, and
    /// those copies were 1.7% of the server). False when the watcher's stream has ended.
    private static func deliver(_ events: [WatchEvent], to watcher: inout Watcher) -> Bool {
        for event in events where event.revision > watcher.after && watcher.range.contains(event.current.key) {
            if watcher.pending != nil {
                watcher.pending?.append(event)
            } else if case .terminated = watcher.continuation.yield(.event(event)) {
                return false
            } else {
                watcher.heardSinceProgress = true
            }
        }
        return true
    }

    /// A progress request: every live watcher that asked for notifications hears the last published
    /// revision now, and again after the next publish (see `progressRequested`).
    func requestProgress() {
        state.withLock { state in
            state.progressRequested = true
            Self.sendProgress(&state, force: true)
        }
    }

    /// One progress round: live watchers that asked for progress and heard nothing since the last round
    /// learn the last published revision.
    func notifyProgress() {
        state.withLock { Self.sendProgress(&$0, force: false) }
    }

    /// A round under the lock; `force` also reaches watchers that heard an event since the last round.
    private static func sendProgress(_ state: inout State, force: Bool) {
        let revision = state.lastPublished
        var index = state.watchers.startIndex
        while index != state.watchers.endIndex {
            defer { index = state.watchers.index(after: index) }
            guard state.watchers.values[index].progressNotify, state.watchers.values[index].pending == nil else {
                continue
            }
            if state.watchers.values[index].heardSinceProgress, !force {
                state.watchers.values[index].heardSinceProgress = false
            } else if revision > state.watchers.values[index].after {
                state.watchers.values[index].continuation.yield(.progress(revision))
            }
        }
    }

    /// Runs progress rounds while the hub lives; it holds the hub weakly, so a dropped store ends it.
    private func startProgressTimer() -> Task<Void, Never> {
        let interval = progressInterval
        return Task.detached { [weak self] in
            while true {
                do { try await Task.sleep(for: interval) } catch { return }
                guard let hub = self else { return }
                hub.notifyProgress()
            }
        }
    }

    /// Ends every stream with `error` and refuses later registrations.
    func close(with error: StorageError) {
        let continuations = state.withLock { state -> [Continuation] in
            state.progressTimer?.cancel()
            state.progressTimer = nil
            if state.closedWith == nil { state.closedWith = error }
            defer { state.watchers = [:] }
            return state.watchers.values.map(\.continuation)
        }
        for continuation in continuations { continuation.finish(throwing: error) }
    }

    var watcherCount: Int { state.withLock { $0.watchers.count } }
}

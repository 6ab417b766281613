import Storage

/// The watches an API server has open on etcd's multiplexed Watch stream, as a pure state machine:
/// one input per method, the I/O to do returned as actions (`EtcdWatchStream` performs them).
///
/// Each watch remembers the next revision it must deliver. When the stream breaks (a member died,
/// a connection moved), every watch is created again on the next stream from that revision, and events
/// below it are dropped, so consumers see each event once, in order, across streams. IDs are chosen
/// here and sent in `WatchCreateRequest.watch_id` (etcd ≥ 3.4), so creates need not be serialized.
struct WatchStreamStateMachine {
    struct Registration {
        var start: String
        var end: String?
        var nextRevision: Revision
        /// Whether the consumer hears etcd's progress notifications (every watch asks etcd for them, to resume
        /// from the latest revision known complete).
        var progressNotify = false
        /// True once etcd confirmed the watch on the current stream.
        var created = false
    }

    enum StreamState: Equatable {
        case idle
        case opening(generation: Int)
        case open(generation: Int)
        case waitingToReopen
    }

    enum Action {
        case openStream(generation: Int)
        case reopenAfterBackoff(failures: Int)
        case create(id: Int64, Registration)
        case cancel(id: Int64)
        case deliver(id: Int64, [WatchEvent])
        /// Every event up to the revision was delivered.
        case progress(id: Int64, Revision)
        case fail(id: Int64, StorageError)
    }

    private(set) var registrations: [Int64: Registration] = [:]
    private(set) var stream: StreamState = .idle
    private var generation = 0
    private var consecutiveFailures = 0

    mutating func register(id: Int64, start: String, end: String?, afterRevision: Revision, progressNotify: Bool)
        -> [Action]
    {
        let registration = Registration(
            start: start, end: end, nextRevision: afterRevision + 1, progressNotify: progressNotify)
        registrations[id] = registration
        switch stream {
        case .open: return [.create(id: id, registration)]
        case .idle: return [openNext()]
        case .opening, .waitingToReopen: return []
        }
    }

    /// The consumer went away.
    mutating func cancel(id: Int64) -> [Action] {
        guard let registration = registrations.removeValue(forKey: id) else { return [] }
        if case .open = stream, registration.created { return [.cancel(id: id)] }
        return []
    }

    mutating func streamOpened(generation opened: Int) -> [Action] {
        guard stream == .opening(generation: opened) else { return [] }
        stream = .open(generation: opened)
        return registrations.sorted { $0.key < $1.key }.map { .create(id: $0.key, $0.value) }
    }

    /// The stream ended or could not be opened; every watch is created again on a new one.
    mutating func streamFailed(generation failed: Int) -> [Action] {
        guard stream == .opening(generation: failed) || stream == .open(generation: failed) else { return [] }
        for id in registrations.keys { registrations[id]?.created = false }
        guard !registrations.isEmpty else {
            stream = .idle
            return []
        }
        stream = .waitingToReopen
        consecutiveFailures += 1
        return [.reopenAfterBackoff(failures: consecutiveFailures)]
    }

    mutating func backoffElapsed() -> [Action] {
        guard stream == .waitingToReopen else { return [] }
        guard !registrations.isEmpty else {
            stream = .idle
            return []
        }
        return [openNext()]
    }

    private mutating func openNext() -> Action {
        generation += 1
        stream = .opening(generation: generation)
        return .openStream(generation: generation)
    }

    /// One decoded `WatchResponse` from the stream of `generation`.
    mutating func received(_ response: WatchResponseSummary, generation current: Int) -> [Action] {
        guard stream == .open(generation: current), var registration = registrations[response.watchID] else {
            return []
        }
        if response.compactRevision > 0 {
            registrations[response.watchID] = nil
            let requested = registration.nextRevision - 1
            return [
                .fail(id: response.watchID, .compacted(requested: requested, compactedAt: response.compactRevision))
            ]
        }
        if response.canceled {
            registrations[response.watchID] = nil
            let reason = response.cancelReason.isEmpty ? "watch canceled by etcd" : response.cancelReason
            return [.fail(id: response.watchID, .unavailable(reason))]
        }
        if response.created {
            registration.created = true
            consecutiveFailures = 0
        }
        let fresh = response.events.filter { $0.revision >= registration.nextRevision }
        if let last = fresh.last {
            registration.nextRevision = last.revision + 1
        } else if response.isProgressNotification, registration.created,
            response.headerRevision >= registration.nextRevision
        {
            // Every event up to the header's revision was sent: a resumed watch may start after it.
            registration.nextRevision = response.headerRevision + 1
            registrations[response.watchID] = registration
            return registration.progressNotify ? [.progress(id: response.watchID, response.headerRevision)] : []
        }
        registrations[response.watchID] = registration
        return fresh.isEmpty ? [] : [.deliver(id: response.watchID, fresh)]
    }
}

/// What the state machine needs of a `WatchResponse`, decoded.
struct WatchResponseSummary {
    var watchID: Int64
    var headerRevision: Revision
    var created = false
    var canceled = false
    var compactRevision: Revision = 0
    var cancelReason = ""
    var events: [WatchEvent] = []

    /// A response carrying nothing but a revision (etcd's `progress_notify`).
    var isProgressNotification: Bool { !created && !canceled && compactRevision == 0 && events.isEmpty }
}

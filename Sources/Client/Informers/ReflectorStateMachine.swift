/// The reflector's decisions, free of I/O: what to list or watch next, from which resourceVersion, and when to
/// back off. `Reflector` performs the actions and reports what happened.
///
/// As upstream's reflector: the first list is served from any resourceVersion ("0"), later ones from the last one
/// seen; a 410 on a list falls back to the latest (""). A watch that ends, cleanly or broken, resumes from the
/// last resourceVersion seen (events and bookmarks move it on); a 410 relists; ERROR events, failures to start a
/// watch, failed lists and watches that end at once without an event back off first.
struct ReflectorStateMachine: Sendable {
    enum State: Sendable, Equatable {
        case idle
        case listing
        case watching(started: ContinuousClock.Instant, events: Int)
        case backingOff(then: Resume)
        case stopped
    }

    /// What a backoff is followed by.
    enum Resume: Sendable, Equatable {
        case list
        case watch
    }

    enum Action: Sendable, Equatable {
        /// List every page; the first at this resourceVersion.
        case list(resourceVersion: String)
        case watch(resourceVersion: String)
        /// Wait, then report `backoffElapsed()`.
        case backOff(Duration)
        case stop
    }

    /// Why a list or watch failed.
    enum Failure: Sendable, Equatable {
        /// 410 Gone or Expired: the resourceVersion was compacted away.
        case expired
        case other
    }

    /// How a watch ended.
    enum WatchEnd: Sendable, Equatable {
        /// Its timeout, or the connection broke.
        case closed
        /// An ERROR event, or a failure, of this kind.
        case failed(Failure)
    }

    /// Upstream calls a watch that ends within a second without an event "very short" and backs off.
    static let shortWatch = Duration.seconds(1)

    private(set) var state: State = .idle
    /// The newest resourceVersion the store reflects.
    private(set) var lastSyncResourceVersion = ""
    /// Set when a list at `lastSyncResourceVersion` was refused as too old: the next list reads the latest.
    private var lastSyncResourceVersionUnavailable = false
    private var backoff = ReflectorBackoff()

    /// The resourceVersion the next list starts from.
    var relistResourceVersion: String {
        if lastSyncResourceVersionUnavailable { return "" }
        return lastSyncResourceVersion.isEmpty ? "0" : lastSyncResourceVersion
    }

    mutating func start() -> Action {
        guard state != .stopped else { return .stop }
        return list()
    }

    /// Every page arrived and the store holds them.
    mutating func listed(resourceVersion: String) -> Action {
        guard state == .listing else { return .stop }
        lastSyncResourceVersion = resourceVersion
        lastSyncResourceVersionUnavailable = false
        return .watch(resourceVersion: resourceVersion)
    }

    mutating func listFailed(_ failure: Failure, now: ContinuousClock.Instant, jitter: Double) -> Action {
        guard state == .listing else { return .stop }
        if failure == .expired, !lastSyncResourceVersionUnavailable {
            lastSyncResourceVersionUnavailable = true
            return list()
        }
        return backOff(then: .list, now: now, jitter: jitter)
    }

    mutating func watchStarted(now: ContinuousClock.Instant) {
        guard state != .stopped else { return }
        state = .watching(started: now, events: 0)
    }

    /// An event or bookmark at `resourceVersion` reached the store.
    mutating func observed(resourceVersion: String) {
        guard case .watching(let started, let events) = state else { return }
        state = .watching(started: started, events: events + 1)
        if !resourceVersion.isEmpty { lastSyncResourceVersion = resourceVersion }
    }

    mutating func watchFailedToStart(_ failure: Failure, now: ContinuousClock.Instant, jitter: Double) -> Action {
        guard state != .stopped else { return .stop }
        if failure == .expired { return list() }
        return backOff(then: .watch, now: now, jitter: jitter)
    }

    mutating func watchEnded(_ end: WatchEnd, now: ContinuousClock.Instant, jitter: Double) -> Action {
        guard case .watching(let started, let events) = state else { return .stop }
        switch end {
        case .failed(.expired):
            return list()
        case .failed(.other):
            return backOff(then: .watch, now: now, jitter: jitter)
        case .closed where events == 0 && started.duration(to: now) < Self.shortWatch:
            return backOff(then: .watch, now: now, jitter: jitter)
        case .closed:
            return .watch(resourceVersion: lastSyncResourceVersion)
        }
    }

    mutating func backoffElapsed() -> Action {
        guard case .backingOff(let resume) = state else { return .stop }
        switch resume {
        case .list: return list()
        case .watch: return .watch(resourceVersion: lastSyncResourceVersion)
        }
    }

    mutating func stop() -> Action {
        state = .stopped
        return .stop
    }

    private mutating func list() -> Action {
        state = .listing
        return .list(resourceVersion: relistResourceVersion)
    }

    private mutating func backOff(then resume: Resume, now: ContinuousClock.Instant, jitter: Double) -> Action {
        state = .backingOff(then: resume)
        return .backOff(backoff.next(now: now, jitter: jitter))
    }
}

/// Upstream's reflector backoff: 800 ms doubling to 30 s, each wait stretched by up to 100 % jitter, and back to
/// 800 ms after two quiet minutes.
struct ReflectorBackoff: Sendable, Equatable {
    static let initial = Duration.milliseconds(800)
    static let cap = Duration.seconds(30)
    static let resetAfter = Duration.seconds(120)

    private var current = initial
    private var last: ContinuousClock.Instant?

    /// The next wait; `jitter` is a random number in [0, 1).
    mutating func next(now: ContinuousClock.Instant, jitter: Double) -> Duration {
        if let last, last.duration(to: now) > Self.resetAfter { current = Self.initial }
        last = now
        let base = current
        current = min(current * 2, Self.cap)
        return base + base * min(max(jitter, 0), 1)
    }
}

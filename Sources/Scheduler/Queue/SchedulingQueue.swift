public import Client
import NIOConcurrencyHelpers

/// Upstream's priority queue: an active queue ordered by the profile's QueueSort, a backoff queue of pods
/// that failed recently (1 s doubling to 10 s), and the unschedulable pods, moved back by the cluster events
/// that could help them and flushed after five minutes regardless.
public final class SchedulingQueue: Sendable {
    /// Tunables, upstream's defaults.
    public struct Settings: Sendable {
        public var initialBackoff: Duration = .seconds(1)
        public var maxBackoff: Duration = .seconds(10)
        public var maxInUnschedulable: Duration = .seconds(300)
        public init() {}
    }

    struct State {
        var active: PodHeap
        var backoff: PodHeap
        var unschedulable: [String: QueuedPodInfo] = [:]
        /// Incremented on every pop; a pod that failed in a cycle older than the last move request is retried.
        var schedulingCycle: Int64 = 0
        var moveRequestCycle: Int64 = -1
        var waiters: [CheckedContinuation<QueuedPodInfo?, Never>] = []
        var closed = false
        /// Pods preemption nominated, by node name (their room is kept for them).
        var nominated: [String: [PodInfo]] = [:]
        var nominatedNode: [String: String] = [:]
        /// Pods popped and not yet `done`, with the newest object seen for them meanwhile.
        var inFlight: [String: PodInfo?] = [:]
    }

    let state: NIOLockedValueBox<State>
    let time: any TimeSource
    let settings: Settings
    /// Plugin name → the cluster events that can undo its rejections.
    let interest: [String: Set<ClusterEvent>]
    private let preEnqueue: @Sendable (PodInfo) -> PluginStatus

    public init(
        profile: Profile, time: any TimeSource = SystemTime(), settings: Settings = Settings()
    ) {
        self.time = time
        self.settings = settings
        interest = profile.clusterEventInterest
        preEnqueue = { profile.runPreEnqueue($0) }
        let less: @Sendable (QueuedPodInfo, QueuedPodInfo) -> Bool = { profile.less($0, $1) }
        let settings = settings
        state = NIOLockedValueBox(
            State(
                active: PodHeap(less: less),
                backoff: PodHeap(less: { Self.backoffExpiry($0, settings) < Self.backoffExpiry($1, settings) })))
    }

    /// The cycle number the next pop starts.
    public var schedulingCycle: Int64 { state.withLockedValue { $0.schedulingCycle } }

    /// How many pods wait in each part: active, backoff, unschedulable.
    public var counts: (active: Int, backoff: Int, unschedulable: Int) {
        state.withLockedValue { ($0.active.count, $0.backoff.count, $0.unschedulable.count) }
    }

    /// A new pending pod.
    public func add(_ pod: PodInfo) {
        var queued = QueuedPodInfo(podInfo: pod, timestamp: time.now)
        let status = preEnqueue(pod)
        queued.gated = !status.isSuccess
        if queued.gated { queued.unschedulablePlugins = [status.plugin] }
        let wake: (CheckedContinuation<QueuedPodInfo?, Never>, QueuedPodInfo)? = state.withLockedValue { state in
            if queued.gated {
                state.unschedulable[pod.uid] = queued
                return nil
            }
            state.unschedulable[pod.uid] = nil
            state.backoff.remove(pod.uid)
            state.active.upsert(queued)
            return Self.popForWaiter(&state, now: self.time.now)
        }
        if let (waiter, pod) = wake { waiter.resume(returning: pod) }
    }

    /// A pending pod changed: gated pods are checked again; an unschedulable pod is retried, as its spec may
    /// now fit (upstream checks whether the change could matter; retrying is always correct).
    public func update(_ pod: PodInfo) {
        let existing: QueuedPodInfo? = state.withLockedValue { state in
            if var queued = state.active.get(pod.uid) {
                queued.podInfo = pod
                state.active.upsert(queued)
                return nil
            }
            if var queued = state.backoff.get(pod.uid) {
                queued.podInfo = pod
                state.backoff.upsert(queued)
                return nil
            }
            return state.unschedulable.removeValue(forKey: pod.uid)
        }
        guard var queued = existing else {
            // Neither queued nor known: in flight (keep the newer object for a retry), or new to us.
            let inFlight = state.withLockedValue { state in
                guard state.inFlight[pod.uid] != nil else { return false }
                state.inFlight[pod.uid] = pod
                return true
            }
            if !inFlight { add(pod) }
            return
        }
        queued.podInfo = pod
        let status = preEnqueue(pod)
        queued.gated = !status.isSuccess
        reinsert(queued)
    }

    /// The pod is gone (deleted or bound elsewhere).
    public func delete(uid: String) {
        state.withLockedValue { state in
            state.active.remove(uid)
            state.backoff.remove(uid)
            state.unschedulable[uid] = nil
            // An in-flight pod is forgotten too, so its cycle's requeue does not bring it back.
            state.inFlight[uid] = nil
            Self.removeNomination(uid, in: &state)
        }
    }

    /// Takes the highest-priority active pod, waiting for one; nil once the queue is closed.
    public func pop() async -> QueuedPodInfo? {
        await withCheckedContinuation { continuation in
            let ready: (QueuedPodInfo?, Bool) = state.withLockedValue { state in
                if state.closed { return (nil, true) }
                if let pod = Self.take(from: &state, now: time.now) { return (pod, true) }
                state.waiters.append(continuation)
                return (nil, false)
            }
            if ready.1 { continuation.resume(returning: ready.0) }
        }
    }

    /// Ends every waiting `pop` with nil.
    public func close() {
        let waiters = state.withLockedValue { state in
            state.closed = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// The scheduling cycle of `uid` is over (bound, or requeued).
    public func done(uid: String) {
        state.withLockedValue { _ = $0.inFlight.removeValue(forKey: uid) }
    }

    /// Pops the first active pod into flight; called with the lock held.
    static func take(from state: inout State, now: ContinuousClock.Instant) -> QueuedPodInfo? {
        guard var pod = state.active.popFirst() else { return nil }
        state.schedulingCycle += 1
        pod.attempts += 1
        if pod.initialAttemptTimestamp == nil { pod.initialAttemptTimestamp = now }
        state.inFlight[pod.podInfo.uid] = .some(nil)
        return pod
    }

    /// Hands the next active pod to a waiting `pop`, if both exist; called with the lock held.
    static func popForWaiter(_ state: inout State, now: ContinuousClock.Instant)
        -> (CheckedContinuation<QueuedPodInfo?, Never>, QueuedPodInfo)?
    {
        guard !state.waiters.isEmpty, let pod = take(from: &state, now: now) else { return nil }
        return (state.waiters.removeFirst(), pod)
    }

    static func backoffExpiry(_ pod: QueuedPodInfo, _ settings: Settings) -> ContinuousClock.Instant {
        pod.timestamp.advanced(by: backoffDuration(attempts: pod.attempts, settings))
    }

    /// 1 s, 2 s, 4 s, … up to the maximum, by attempts so far.
    static func backoffDuration(attempts: Int, _ settings: Settings) -> Duration {
        var duration = settings.initialBackoff
        var step = 1
        while step < attempts && duration < settings.maxBackoff {
            duration *= 2
            step += 1
        }
        return min(duration, settings.maxBackoff)
    }

    static func removeNomination(_ uid: String, in state: inout State) {
        guard let node = state.nominatedNode.removeValue(forKey: uid) else { return }
        state.nominated[node]?.removeAll { $0.uid == uid }
        if state.nominated[node]?.isEmpty == true { state.nominated[node] = nil }
    }
}

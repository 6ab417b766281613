import NIOConcurrencyHelpers

extension SchedulingQueue {
    /// Puts back a pod no node fitted. If a cluster event arrived while it was being scheduled, it is retried
    /// after its backoff; otherwise it waits among the unschedulable pods for an event that could help.
    public func requeueUnschedulable(_ pod: QueuedPodInfo, cycle: Int64, rejectedBy plugins: Set<String>) {
        var queued = pod
        queued.unschedulablePlugins = plugins
        requeue(queued) { state in state.moveRequestCycle >= cycle }
    }

    /// Puts back a pod whose cycle failed with an error (or whose binding failed): retried after its backoff.
    public func requeueAfterError(_ pod: QueuedPodInfo) {
        var queued = pod
        queued.unschedulablePlugins = []
        requeue(queued) { _ in true }
    }

    private func requeue(_ pod: QueuedPodInfo, retrySoon: (State) -> Bool) {
        var queued = pod
        queued.timestamp = time.now
        let wake: (CheckedContinuation<QueuedPodInfo?, Never>, QueuedPodInfo)? = state.withLockedValue { state in
            let uid = pod.podInfo.uid
            guard let entry = state.inFlight.removeValue(forKey: uid) else {
                // Deleted while in flight: nothing to put back.
                return nil
            }
            if let newer = entry { queued.podInfo = newer }
            if retrySoon(state) {
                state.backoff.upsert(queued)
            } else {
                state.unschedulable[uid] = queued
            }
            return Self.popForWaiter(&state, now: time.now)
        }
        if let (waiter, pod) = wake { waiter.resume(returning: pod) }
    }

    /// A cluster event happened: unschedulable pods that a plugin interested in it rejected are retried.
    public func move(_ event: ClusterEvent) {
        let now = time.now
        let wakes = state.withLockedValue { state in
            state.moveRequestCycle = state.schedulingCycle
            let helped = state.unschedulable.values.filter { pod in
                !pod.gated
                    && (pod.unschedulablePlugins.isEmpty
                        || pod.unschedulablePlugins.contains { interest[$0]?.contains(event) ?? true })
            }
            for pod in helped { moveOut(pod, in: &state, now: now) }
            return Self.drainWaiters(&state, now: now)
        }
        for (waiter, pod) in wakes { waiter.resume(returning: pod) }
    }

    /// Moves backoff pods whose backoff has passed to the active queue (upstream runs this every second).
    public func flushBackoffCompleted() {
        let now = time.now
        let wakes = state.withLockedValue { state in
            while let first = state.backoff.first, Self.backoffExpiry(first, settings) <= now {
                state.backoff.remove(first.podInfo.uid)
                state.active.upsert(first)
            }
            return Self.drainWaiters(&state, now: now)
        }
        for (waiter, pod) in wakes { waiter.resume(returning: pod) }
    }

    /// Retries pods that have waited among the unschedulable longer than the maximum (every 30 s upstream).
    public func flushUnschedulableLeftover() {
        let now = time.now
        let wakes = state.withLockedValue { state in
            let stale = state.unschedulable.values.filter {
                !$0.gated && $0.timestamp.advanced(by: settings.maxInUnschedulable) <= now
            }
            for pod in stale { moveOut(pod, in: &state, now: now) }
            return Self.drainWaiters(&state, now: now)
        }
        for (waiter, pod) in wakes { waiter.resume(returning: pod) }
    }

    /// Runs the periodic flushes until the task is cancelled.
    public func runFlushes() async {
        var sinceLeftover: Duration = .zero
        while !Task.isCancelled {
            do { try await time.sleep(for: .seconds(1)) } catch { return }
            flushBackoffCompleted()
            sinceLeftover += .seconds(1)
            if sinceLeftover >= .seconds(30) {
                sinceLeftover = .zero
                flushUnschedulableLeftover()
            }
        }
    }

    /// Records that preemption made room for `pod` on `node`; later cycles keep that room for it.
    public func nominate(_ pod: PodInfo, node: String) {
        state.withLockedValue { state in
            Self.removeNomination(pod.uid, in: &state)
            state.nominatedNode[pod.uid] = node
            state.nominated[node, default: []].append(pod)
        }
    }

    /// Pods nominated to `node` by earlier preemptions.
    public func nominatedPods(on node: String) -> [PodInfo] {
        state.withLockedValue { $0.nominated[node] ?? [] }
    }

    /// Forgets a nomination (the pod was bound or deleted).
    public func clearNomination(uid: String) {
        state.withLockedValue { Self.removeNomination(uid, in: &$0) }
    }

    private func moveOut(_ pod: QueuedPodInfo, in state: inout State, now: ContinuousClock.Instant) {
        state.unschedulable[pod.podInfo.uid] = nil
        // A pod never tried (it was gated) has nothing to back off from.
        if pod.attempts > 0 && Self.backoffExpiry(pod, settings) > now {
            state.backoff.upsert(pod)
        } else {
            state.active.upsert(pod)
        }
    }

    private func reinsertLocked(_ pod: QueuedPodInfo, in state: inout State, now: ContinuousClock.Instant) {
        if pod.gated {
            state.unschedulable[pod.podInfo.uid] = pod
        } else {
            moveOut(pod, in: &state, now: now)
        }
    }

    /// Puts a pod taken out of the unschedulable set back where it now belongs.
    func reinsert(_ pod: QueuedPodInfo) {
        let now = time.now
        let wakes = state.withLockedValue { state in
            reinsertLocked(pod, in: &state, now: now)
            return Self.drainWaiters(&state, now: now)
        }
        for (waiter, pod) in wakes { waiter.resume(returning: pod) }
    }

    static func drainWaiters(_ state: inout State, now: ContinuousClock.Instant)
        -> [(CheckedContinuation<QueuedPodInfo?, Never>, QueuedPodInfo)]
    {
        var wakes: [(CheckedContinuation<QueuedPodInfo?, Never>, QueuedPodInfo)] = []
        while let wake = popForWaiter(&state, now: now) { wakes.append(wake) }
        return wakes
    }
}

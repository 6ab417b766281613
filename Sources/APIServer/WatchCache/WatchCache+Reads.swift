import Storage

/// The revision a read needs from a watch cache, as upstream's resourceVersion semantics for get and list.
enum CacheReadRequirement: Sendable, Equatable {
    /// No resourceVersion: at least storage's current revision (a consistent read).
    case consistent
    /// `resourceVersion=0`: whatever the cache holds now.
    case any
    /// `NotOlderThan`: at least this revision.
    case atLeast(Revision)
    /// `Exact` and a continue token's revision: this revision and no other.
    case exactly(Revision)
}

/// A cache's objects at one revision, read without its lock.
struct CacheView: Sendable {
    let objects: CachedObjects
    let revision: Revision
}

extension WatchCache {
    /// The objects at a revision that meets `requirement`, or nil when storage must answer: the cache is
    /// not ready, no longer holds that revision, or cannot confirm in time that it reached storage's.
    func view(_ requirement: CacheReadRequirement) async -> CacheView? {
        let (ready, idle) = state.withLockedValue { state -> (Bool, Bool) in
            if case .idle = state.phase { return (false, true) }
            return (state.ready, false)
        }
        // A cache that stopped (its watch was compacted away) starts again with the next read or watch.
        if idle { Task { await self.start() } }
        guard ready else { return nil }
        switch requirement {
        case .any:
            return currentView(atLeast: 0)
        case .atLeast(let revision):
            return currentView(atLeast: revision)
        case .exactly(let revision):
            return state.withLockedValue { state in
                guard state.ready else { return nil }
                if state.revision == revision { return CacheView(objects: state.objects, revision: revision) }
                return state.snapshots.last { $0.revision == revision }.map {
                    CacheView(objects: $0.objects, revision: revision)
                }
            }
        case .consistent:
            // Without progress requests the cache is rarely at storage's revision (other resources' writes
            // move it), so a revision request would mostly add a round trip: storage answers, as upstream's.
            guard !state.withLockedValue({ $0.progressUnsupported }),
                let revision = try? await revisions.fresh()
            else { return nil }
            if let view = currentView(atLeast: revision) { return view }
            // Behind: ask storage to tell the cache how far it got, rather than waiting for the periodic
            // notification.
            guard await storage.requestProgress() else {
                state.withLockedValue { $0.progressUnsupported = true }
                return nil
            }
            guard await waitUntil(revision) else { return nil }
            return currentView(atLeast: revision)
        }
    }

    /// Keeps a paged list's view so its later pages are served at the same revision.
    func keepSnapshot(_ view: CacheView) {
        guard configuration.pagedListSnapshots > 0 else { return }
        state.withLockedValue { state in
            guard state.ready, !state.snapshots.contains(where: { $0.revision == view.revision }) else { return }
            state.snapshots.append((view.revision, view.objects))
            if state.snapshots.count > configuration.pagedListSnapshots { state.snapshots.removeFirst() }
        }
    }

    /// The cache's copy of one object as it holds it now, however far behind storage: a write's starting
    /// point, which storage's revision check confirms. Nil when the cache is not loaded or lacks the key.
    func currentObject(_ key: String) -> CachedObject? {
        state.withLockedValue { state in state.ready ? state.objects[key] : nil }
    }

    /// The revision the cache has reached, and whether its objects are loaded.
    var readiness: (ready: Bool, revision: Revision) { state.withLockedValue { ($0.ready, $0.revision) } }

    private func currentView(atLeast revision: Revision) -> CacheView? {
        state.withLockedValue { state in
            guard state.ready, state.revision >= revision else { return nil }
            return CacheView(objects: state.objects, revision: state.revision)
        }
    }

    /// Waits until the cache reaches `revision`: true once it has, false when `freshnessTimeout` passed or
    /// the cache stopped first.
    func waitUntil(_ revision: Revision) async -> Bool {
        let deadline = ContinuousClock.now + configuration.freshnessTimeout
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let (answer, startSweeper) = state.withLockedValue { state -> (Bool?, Bool) in
                guard case .running = state.phase else { return (false, false) }
                if state.ready, state.revision >= revision { return (true, false) }
                let id = state.nextID
                state.nextID += 1
                state.waiters[id] = (revision, deadline, continuation)
                defer { state.sweeping = true }
                return (nil, !state.sweeping)
            }
            if let answer { continuation.resume(returning: answer) }
            if startSweeper { Task { await self.sweepWaiters() } }
        }
    }

    /// Times out waiting reads, one task for all of them rather than a timer each, while any waits.
    private func sweepWaiters() async {
        let tick = min(configuration.freshnessTimeout, .milliseconds(50))
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let expired = state.withLockedValue { state -> [CheckedContinuation<Bool, Never>]? in
                if state.waiters.isEmpty {
                    state.sweeping = false
                    return nil
                }
                let expired = state.waiters.filter { $0.value.deadline <= now }
                for id in expired.keys { state.waiters[id] = nil }
                return expired.values.map(\.continuation)
            }
            guard let expired else { return }
            for continuation in expired { continuation.resume(returning: false) }
        }
    }

    /// Resumes every read waiting for a revision the cache has now reached.
    func wakeWaiters() {
        let woken = state.withLockedValue { state -> [CheckedContinuation<Bool, Never>] in
            guard state.ready, !state.waiters.isEmpty else { return [] }
            let reached = state.waiters.filter { $0.value.revision <= state.revision }
            for id in reached.keys { state.waiters[id] = nil }
            return reached.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume(returning: true) }
    }
}

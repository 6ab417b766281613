import Client
import NIOConcurrencyHelpers

/// Upstream's `TimedWorkerQueue` for pod deletions: one timer per pod on the injected clock. A pod whose
/// deletion ran keeps its entry (so it is not scheduled twice) until it is cancelled, which its deletion from
/// the cache does.
final class TimedDeletions: Sendable {
    private struct Work: Sendable {
        var createdAt: ContinuousClock.Instant
        var fireAt: ContinuousClock.Instant
        /// nil once the work ran.
        var task: Task<Void, Never>?
    }

    private let time: any TimeSource
    private let works = NIOLockedValueBox<[ObjectKey: Work]>([:])

    init(time: any TimeSource) { self.time = time }

    /// When the pending deletion of `key` was scheduled; nil when none is pending (or it already ran).
    func scheduledSince(_ key: ObjectKey) -> ContinuousClock.Instant? {
        works.withLockedValue { works in works[key].flatMap { $0.task == nil ? nil : $0.createdAt } }
    }

    /// When the pending deletion of `key` fires, if one is pending.
    func fireAt(_ key: ObjectKey) -> ContinuousClock.Instant? {
        works.withLockedValue { works in works[key].flatMap { $0.task == nil ? nil : $0.fireAt } }
    }

    /// Runs `action` for `key` at `fireAt`, unless work for `key` exists already. A failed action forgets the
    /// key so that the next update schedules it again.
    func add(
        _ key: ObjectKey, createdAt: ContinuousClock.Instant, fireAt: ContinuousClock.Instant,
        action: @escaping @Sendable () async -> Bool
    ) {
        let time = self.time
        works.withLockedValue { works in
            guard works[key] == nil else { return }
            let task = Task { [weak self] in
                guard (try? await time.sleep(until: fireAt)) != nil else { return }
                let succeeded = await action()
                self?.works.withLockedValue { works in
                    if succeeded { works[key]?.task = nil } else { works[key] = nil }
                }
            }
            works[key] = Work(createdAt: createdAt, fireAt: fireAt, task: task)
        }
    }

    /// Cancels the work for `key` and forgets it; whether a pending deletion was cancelled.
    @discardableResult
    func cancel(_ key: ObjectKey) -> Bool {
        guard let work = works.withLockedValue({ $0.removeValue(forKey: key) }) else { return false }
        guard let task = work.task else { return false }
        task.cancel()
        return true
    }

    /// Cancels every pending deletion (the controller stopping).
    func cancelAll() {
        let tasks = works.withLockedValue { works in
            defer { works.removeAll() }
            return works.values.compactMap(\.task)
        }
        for task in tasks { task.cancel() }
    }
}

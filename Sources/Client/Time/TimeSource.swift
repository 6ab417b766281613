public import Foundation
import NIOConcurrencyHelpers

/// Where client machinery reads the time and waits: the system clock in production, `FakeTime` in tests,
/// so queues, backoffs, leases and event aggregation are tested without sleeping.
public protocol TimeSource: Sendable {
    /// Monotonic now; only differences between two readings mean anything.
    var now: ContinuousClock.Instant { get }
    /// Wall-clock now, for timestamps written to the API (lease renewTime, event times).
    var wallNow: Date { get }
    /// Returns at `deadline` (at once if it has passed); throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: ContinuousClock.Instant) async throws
}

extension TimeSource {
    /// Sleeps for `duration` from now.
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now.advanced(by: duration))
    }
}

/// The real clocks.
public struct SystemTime: TimeSource {
    public init() {}
    public var now: ContinuousClock.Instant { ContinuousClock.now }
    public var wallNow: Date { Date() }
    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        try await ContinuousClock().sleep(until: deadline, tolerance: nil)
    }
}

/// A clock that moves only when a test calls `advance(by:)`, waking every sleeper whose deadline passed.
public final class FakeTime: TimeSource {
    private struct Sleeper {
        var deadline: ContinuousClock.Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: ContinuousClock.Instant
        var wall: Date
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
    }

    private let state: NIOLockedValueBox<State>

    public init(wallNow: Date = Date(timeIntervalSince1970: 1_700_000_000)) {
        state = NIOLockedValueBox(State(now: ContinuousClock.now, wall: wallNow))
    }

    public var now: ContinuousClock.Instant { state.withLockedValue { $0.now } }
    public var wallNow: Date { state.withLockedValue { $0.wall } }

    /// How many tasks are sleeping on this clock: tests wait for it before advancing.
    public var sleeperCount: Int { state.withLockedValue { $0.sleepers.count } }

    /// Moves time on and resumes every sleeper whose deadline is now due.
    public func advance(by duration: Duration) {
        let due: [CheckedContinuation<Void, any Error>] = state.withLockedValue { state in
            state.now = state.now.advanced(by: duration)
            state.wall = state.wall.addingTimeInterval(
                Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
            let ready = state.sleepers.filter { $0.value.deadline <= state.now }
            for id in ready.keys { state.sleepers[id] = nil }
            return ready.map(\.value.continuation)
        }
        for continuation in due { continuation.resume() }
    }

    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        let id: UInt64 = state.withLockedValue { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Bool = state.withLockedValue { state in
                    if deadline <= state.now || Task.isCancelled { return true }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLockedValue { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
        try Task.checkCancellation()
    }
}

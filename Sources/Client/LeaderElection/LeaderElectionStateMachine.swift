import Foundation

/// The decisions of client-go's `tryAcquireOrRenew`, free of I/O: fed what the lock holds and the
/// time, it says what to write, and when a leader must stop.
///
/// Expiry is judged by when this candidate *saw* the record change, never by the `renewTime` written
/// in it, so clocks that disagree between machines cannot make a live leader look expired. A leader
/// counts its renew deadline from when it *sent* its last successful write: others start their
/// lease-duration wait no earlier than that write, and the renew deadline is shorter, so the leader
/// stops before anyone else may start.
struct LeaderElectionStateMachine: Sendable {
    /// What to do next in one attempt to acquire or renew.
    enum Step: Equatable, Sendable {
        /// Read the lock.
        case read
        /// Create the lock holding this record (it does not exist yet).
        case create(LeaderElectionRecord)
        /// Write this record over the version last seen.
        case update(LeaderElectionRecord)
        /// Someone else holds an unexpired lease: nothing to write.
        case heldByOther(String)
    }

    let identity: String
    let leaseDuration: Duration
    let renewDeadline: Duration

    /// The record as last read or written.
    private(set) var observedRecord: LeaderElectionRecord?
    /// When `observedRecord` last changed, by this candidate's clock.
    private(set) var observedTime: ContinuousClock.Instant?
    /// When the current attempt began; a successful write as leader counts from here.
    private var attemptStart: ContinuousClock.Instant?
    /// When the last successful write by this candidate was sent; nil when not leading.
    private(set) var lastRenewal: ContinuousClock.Instant?

    init(identity: String, leaseDuration: Duration, renewDeadline: Duration) {
        self.identity = identity
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
    }

    /// The lock names this candidate as holder (upstream's `IsLeader`).
    var holdsLock: Bool { observedRecord?.holderIdentity == identity }

    /// The holder as last observed; empty when released or unknown.
    var observedLeader: String { observedRecord?.holderIdentity ?? "" }

    /// Leading: holding the lock and within the renew deadline of the last successful write.
    func isLeading(at now: ContinuousClock.Instant) -> Bool {
        guard holdsLock, let lastRenewal else { return false }
        return now < lastRenewal.advanced(by: renewDeadline)
    }

    /// When a leader that has not renewed by then must stop; nil when not leading.
    var renewalDeadline: ContinuousClock.Instant? {
        guard holdsLock else { return nil }
        return lastRenewal?.advanced(by: renewDeadline)
    }

    /// Starts an attempt. A leader whose lease is still valid writes straight over the version it last
    /// wrote (upstream's fast path: one request per renewal); everyone else reads first.
    mutating func begin(at now: ContinuousClock.Instant, wallNow: Date) -> Step {
        attemptStart = now
        guard holdsLock, leaseValid(at: now), let observedRecord else { return .read }
        return .update(record(wallNow: wallNow, keeping: observedRecord))
    }

    /// What was read from the lock (nil: it does not exist) decides the write, if any.
    mutating func read(_ current: LeaderElectionRecord?, at now: ContinuousClock.Instant, wallNow: Date) -> Step {
        guard let current else {
            return .create(record(wallNow: wallNow, keeping: nil))
        }
        if current != observedRecord {
            observedRecord = current
            observedTime = now
        }
        if !current.holderIdentity.isEmpty, leaseValid(at: now), !holdsLock {
            return .heldByOther(current.holderIdentity)
        }
        if holdsLock { return .update(record(wallNow: wallNow, keeping: current)) }
        var taken = record(wallNow: wallNow, keeping: nil)
        taken.leaderTransitions = current.leaderTransitions + 1
        return .update(taken)
    }

    /// A create or update of `record` succeeded.
    mutating func wrote(_ record: LeaderElectionRecord, at now: ContinuousClock.Instant) {
        observedRecord = record
        observedTime = now
        lastRenewal = record.holderIdentity == identity ? (attemptStart ?? now) : nil
    }

    /// The record that hands the lock back on shutdown, as upstream's `release`: no holder and a
    /// one-second lease, so a standby takes over on its next attempt. Nil when not holding the lock.
    func releaseRecord(wallNow: Date) -> LeaderElectionRecord? {
        guard holdsLock, let observedRecord else { return nil }
        let now = MicroTimestamp.format(wallNow)
        return LeaderElectionRecord(
            holderIdentity: "", leaseDurationSeconds: 1, acquireTime: now, renewTime: now,
            leaderTransitions: observedRecord.leaderTransitions)
    }

    /// Upstream's `isLeaseValid`: the observed record's lease has not run out since it was observed.
    private func leaseValid(at now: ContinuousClock.Instant) -> Bool {
        guard let observedTime, let observedRecord else { return false }
        return observedTime.advanced(by: .seconds(observedRecord.leaseDurationSeconds)) > now
    }

    /// This candidate's record, renewed now; keeps the acquire time and transitions of `held` when renewing.
    private func record(wallNow: Date, keeping held: LeaderElectionRecord?) -> LeaderElectionRecord {
        let now = MicroTimestamp.format(wallNow)
        return LeaderElectionRecord(
            holderIdentity: identity, leaseDurationSeconds: Int(leaseDuration.components.seconds),
            acquireTime: held?.acquireTime ?? now, renewTime: now, leaderTransitions: held?.leaderTransitions ?? 0)
    }
}

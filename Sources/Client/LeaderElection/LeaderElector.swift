import Foundation
public import Logging
import NIOConcurrencyHelpers

/// Why an elector cannot be built.
public enum LeaderElectionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The durations, lock or identity break upstream's rules; each message names one problem.
    case invalidConfiguration([String])

    public var description: String {
        switch self {
        case .invalidConfiguration(let problems): return problems.joined(separator: ", ")
        }
    }
}

/// client-go's `LeaderElector`: competes for a lock with the other replicas of a component and runs
/// the component's work only while it leads. The decisions are `LeaderElectionStateMachine`'s; this
/// type does the waiting and the I/O.
public final class LeaderElector: Sendable {
    /// This candidate's name in the lock, `hostname_<uuid>` by default.
    public let identity: String
    private let lock: any ResourceLock
    private let leaseDuration: Duration
    private let renewDeadline: Duration
    private let retryPeriod: Duration
    private let releaseOnCancel: Bool
    private let timeSource: any TimeSource
    private let logger: Logger
    private let eventRecorder: EventRecorder?
    private let status = NIOLockedValueBox<(leader: String, leading: Bool, validUntil: ContinuousClock.Instant?)>(
        ("", false, nil))

    /// An elector on `lock` with the durations of `configuration` (validated as upstream does).
    /// With `releaseOnCancel` a leader whose `run` is cancelled hands the lock back, so a standby takes
    /// over within a retry period instead of a lease duration. With an `eventRecorder`, becoming and
    /// ceasing to be leader are recorded as `LeaderElection` events on the lock object, as upstream does.
    public init(
        lock: any ResourceLock, configuration: LeaderElectionConfiguration, identity: String = defaultIdentity(),
        releaseOnCancel: Bool = true, timeSource: any TimeSource = SystemTime(),
        logger: Logger = Logger(label: "kubeswift.leaderelection"), eventRecorder: EventRecorder? = nil
    ) throws(LeaderElectionError) {
        var checked = configuration
        checked.leaderElect = true
        var problems = checked.validate()
        if identity.isEmpty { problems.append("Lock identity is empty") }
        guard problems.isEmpty else { throw .invalidConfiguration(problems) }
        self.lock = lock
        self.identity = identity
        leaseDuration = configuration.leaseDuration
        renewDeadline = configuration.renewDeadline
        retryPeriod = configuration.retryPeriod
        self.releaseOnCancel = releaseOnCancel
        self.timeSource = timeSource
        self.logger = logger
        self.eventRecorder = eventRecorder
    }

    /// Upstream components' identity: the host name, an underscore and a fresh UUID, so two processes
    /// on one host (or one restarted) are never mistaken for each other.
    public static func defaultIdentity() -> String {
        ProcessInfo.processInfo.hostName + "_" + UUID().uuidString.lowercased()
    }

    /// True while this candidate leads.
    public var isLeader: Bool { status.withLockedValue { $0.leading } }

    /// True while this candidate leads and its last renewal is within the renew deadline, by the local
    /// monotonic clock. Work that acts on the cluster checks it right before acting: a leader frozen
    /// (SIGSTOP, a long pause) past its deadline may wake before its renew loop notices, and must not act
    /// once a standby could have taken over.
    public var holdsValidLease: Bool {
        let (leading, validUntil) = status.withLockedValue { ($0.leading, $0.validUntil) }
        guard leading, let validUntil else { return false }
        return timeSource.now < validUntil
    }

    /// The holder this candidate last saw in the lock; empty before the first read or after a release.
    public var leader: String { status.withLockedValue { $0.leader } }

    /// Competes until this candidate leads, then runs `onStartedLeading` as a child task while renewing.
    /// Returns once leadership is over: when the lease could not be renewed within the renew deadline
    /// (the work is cancelled and `onStoppedLeading` called at once, before the lease can expire for
    /// others), or when the calling task is cancelled (the work is cancelled and awaited, the lock
    /// released, then `onStoppedLeading` called). A candidate cancelled before it led returns without
    /// calling either. `onNewLeader` is called, on its own task, with each new holder seen.
    public func run(
        onStartedLeading: @escaping @Sendable () async -> Void,
        onStoppedLeading: @escaping @Sendable () async -> Void = {},
        onNewLeader: @escaping @Sendable (String) async -> Void = { _ in }
    ) async {
        var election = Election(
            machine: LeaderElectionStateMachine(
                identity: identity, leaseDuration: leaseDuration, renewDeadline: renewDeadline),
            onNewLeader: onNewLeader)
        guard await acquire(&election) else { return }
        status.withLockedValue { $0.leading = true }
        recordEvent("became leader")
        let lost = await withTaskGroup(of: Void.self) { group in
            group.addTask { await onStartedLeading() }
            let lost = await renew(&election)
            group.cancelAll()
            if lost {
                status.withLockedValue { $0.leading = false }
                recordEvent("stopped leading")
                await onStoppedLeading()
            } else {
                // Leave only once the work has stopped, so the successor never overlaps it.
                await group.waitForAll()
            }
            return lost
        }
        guard !lost else { return }
        recordEvent("stopped leading")
        if releaseOnCancel { await release(&election) }
        status.withLockedValue { $0.leading = false }
        await onStoppedLeading()
    }

    /// One run's state: the decisions so far and the last holder reported.
    private struct Election {
        var machine: LeaderElectionStateMachine
        var reportedLeader = ""
        let onNewLeader: @Sendable (String) async -> Void
    }

    /// Tries every retry period (jittered, as upstream) until the lock is ours; false when cancelled.
    private func acquire(_ election: inout Election) async -> Bool {
        logger.info("attempting to acquire leader lease \(lock)...")
        while !Task.isCancelled {
            let acquired = await attempt(&election, deadline: timeSource.now.advanced(by: renewDeadline))
            if acquired {
                logger.info("successfully acquired lease \(lock)")
                return true
            }
            let jitter = retryPeriod * Double.random(in: 0..<LeaderElectionConfiguration.jitterFactor)
            do {
                try await timeSource.sleep(for: retryPeriod + jitter)
            } catch {
                return false
            }
        }
        return false
    }

    /// Renews every retry period, retrying until the renew deadline; true when leadership was lost,
    /// false when the task was cancelled while still leading.
    private func renew(_ election: inout Election) async -> Bool {
        while true {
            do {
                try await timeSource.sleep(for: retryPeriod)
            } catch {
                return false
            }
            while true {
                // Someone else's record in the lock ends leadership at once; no point waiting.
                guard let deadline = election.machine.renewalDeadline else {
                    logger.info("failed to renew lease \(lock): the lock is held by \(election.machine.observedLeader)")
                    return true
                }
                if await attempt(&election, deadline: deadline) { break }
                if Task.isCancelled { return false }
                let now = timeSource.now
                guard now < deadline else {
                    logger.info("failed to renew lease \(lock): timed out waiting for the condition")
                    return true
                }
                do {
                    try await timeSource.sleep(until: min(now.advanced(by: retryPeriod), deadline))
                } catch {
                    return false
                }
            }
        }
    }

    /// Writes the emptied record so a standby need not wait out the lease (upstream's `release`).
    private func release(_ election: inout Election) async {
        guard let record = election.machine.releaseRecord(wallNow: timeSource.wallNow) else { return }
        let deadline = timeSource.now.advanced(by: renewDeadline)
        // The caller's task is cancelled by now, and the write must still go out: an unstructured task
        // does not inherit the cancellation. A stale release fails on resourceVersion, never clobbering.
        let result = await Task {
            try await self.withDeadline(deadline) { try await self.lock.update(record) }
        }.result
        switch result {
        case .success:
            election.machine.wrote(record, at: timeSource.now)
            report(&election)
        case .failure(let error):
            logger.error("Failed to release lock: \(error)")
        }
    }

    /// One `tryAcquireOrRenew`, every request bounded by `deadline`; true when this candidate now holds the lock.
    private func attempt(_ election: inout Election, deadline: ContinuousClock.Instant) async -> Bool {
        defer { report(&election) }
        var step = election.machine.begin(at: timeSource.now, wallNow: timeSource.wallNow)
        var fastPath = step != .read
        while true {
            switch step {
            case .read:
                let current: LeaderElectionRecord?
                do {
                    current = try await withDeadline(deadline) { try await self.lock.get() }
                } catch {
                    log(error, "error retrieving resource lock \(lock)")
                    return false
                }
                step = election.machine.read(current, at: timeSource.now, wallNow: timeSource.wallNow)
            case .create(let record):
                do {
                    try await withDeadline(deadline) { try await self.lock.create(record) }
                } catch {
                    log(error, "error initially creating leader election record")
                    return false
                }
                election.machine.wrote(record, at: timeSource.now)
                return true
            case .update(let record):
                do {
                    try await withDeadline(deadline) { try await self.lock.update(record) }
                } catch {
                    guard fastPath else {
                        log(error, "Failed to update lock")
                        return false
                    }
                    log(error, "Failed to update lock optimistically", then: ", falling back to slow path")
                    fastPath = false
                    step = .read
                    continue
                }
                election.machine.wrote(record, at: timeSource.now)
                return true
            case .heldByOther(let holder):
                logger.debug("lock is held by \(holder) and has not yet expired")
                return false
            }
        }
    }

    /// Tells `onNewLeader` and the status about a holder not seen before.
    private func report(_ election: inout Election) {
        let leader = election.machine.observedLeader
        let validUntil = election.machine.renewalDeadline
        status.withLockedValue {
            $0.leader = leader
            $0.validUntil = validUntil
        }
        guard leader != election.reportedLeader else { return }
        election.reportedLeader = leader
        guard !leader.isEmpty else { return }
        logger.info("new leader elected: \(leader)")
        let onNewLeader = election.onNewLeader
        Task { await onNewLeader(leader) }
    }

    /// upstream's `RecordEvent`: "<identity> became leader" and the like, on the lock object.
    private func recordEvent(_ what: String) {
        guard let eventRecorder, let subject = lock.eventSubject else { return }
        eventRecorder.eventf(
            regarding: subject, type: .normal, reason: "LeaderElection", action: "LeaderElection",
            note: "\(identity) \(what)")
    }

    /// Logs a failed request, except the cancellation that ends a run.
    private func log(_ error: any Error, _ message: String, then suffix: String = "") {
        guard !(error is CancellationError) else { return }
        logger.error("\(message): \(error)\(suffix)")
    }

    /// Runs `operation`, giving up with `ClientError.timeout` at `deadline` (the request is cancelled).
    private func withDeadline<T: Sendable>(
        _ deadline: ContinuousClock.Instant, _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await self.timeSource.sleep(until: deadline)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw ClientError.timeout }
            return value
        }
    }
}

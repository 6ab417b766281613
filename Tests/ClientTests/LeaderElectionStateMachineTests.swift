import Component
import Foundation
import Logging
import XCTest

@testable import Client

/// The election's decisions alone, on a fake clock: no server, no sleeping.
final class LeaderElectionStateMachineTests: XCTestCase {
    private let time = FakeTime()

    private func machine(_ identity: String = "me") -> LeaderElectionStateMachine {
        LeaderElectionStateMachine(identity: identity, leaseDuration: .seconds(15), renewDeadline: .seconds(10))
    }

    private func held(by holder: String, renewTime: String = "2020-01-01T00:00:00.000000Z", transitions: Int = 3)
        -> LeaderElectionRecord
    {
        LeaderElectionRecord(
            holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: renewTime, renewTime: renewTime,
            leaderTransitions: transitions)
    }

    func testAcquiresAFreeLeaseByCreatingIt() throws {
        var election = machine()
        XCTAssertEqual(election.begin(at: time.now, wallNow: time.wallNow), .read)
        guard case .create(let record) = election.read(nil, at: time.now, wallNow: time.wallNow) else {
            return XCTFail("a missing lock should be created")
        }
        XCTAssertEqual(record.holderIdentity, "me")
        XCTAssertEqual(record.leaseDurationSeconds, 15)
        XCTAssertEqual(record.leaderTransitions, 0)
        XCTAssertEqual(record.renewTime, "2023-11-14T22:13:20.000000Z")
        XCTAssertEqual(record.acquireTime, record.renewTime)
        election.wrote(record, at: time.now)
        XCTAssertTrue(election.holdsLock)
        XCTAssertTrue(election.isLeading(at: time.now))
    }

    func testWaitsWhileAnotherHolderRenews() {
        var election = machine()
        _ = election.begin(at: time.now, wallNow: time.wallNow)
        XCTAssertEqual(election.read(held(by: "other"), at: time.now, wallNow: time.wallNow), .heldByOther("other"))
        for second in 1...20 {
            time.advance(by: .seconds(10))
            _ = election.begin(at: time.now, wallNow: time.wallNow)
            // The holder renews: every read shows a new record, so the lease never runs out here.
            let renewed = held(by: "other", renewTime: "2020-01-01T00:00:\(10 + second).000000Z")
            XCTAssertEqual(election.read(renewed, at: time.now, wallNow: time.wallNow), .heldByOther("other"))
        }
        XCTAssertFalse(election.holdsLock)
    }

    func testTakesOverOnlyOnceTheLeaseExpiredAsObservedLocally() throws {
        var election = machine()
        // renewTime is years old, but this candidate has only just seen the record: it must still wait.
        let stale = held(by: "other")
        _ = election.begin(at: time.now, wallNow: time.wallNow)
        XCTAssertEqual(election.read(stale, at: time.now, wallNow: time.wallNow), .heldByOther("other"))
        time.advance(by: .seconds(14))
        _ = election.begin(at: time.now, wallNow: time.wallNow)
        XCTAssertEqual(election.read(stale, at: time.now, wallNow: time.wallNow), .heldByOther("other"))
        time.advance(by: .seconds(1))
        XCTAssertEqual(election.begin(at: time.now, wallNow: time.wallNow), .read)
        guard case .update(let record) = election.read(stale, at: time.now, wallNow: time.wallNow) else {
            return XCTFail("an expired lease should be taken over")
        }
        XCTAssertEqual(record.holderIdentity, "me")
        XCTAssertEqual(record.leaderTransitions, 4, "a change of holder is a transition")
        XCTAssertEqual(record.acquireTime, record.renewTime)
        XCTAssertNotEqual(record.acquireTime, stale.acquireTime)
    }

    func testALeaderRenewsOnTheFastPathKeepingAcquireTimeAndTransitions() throws {
        var election = machine()
        _ = election.begin(at: time.now, wallNow: time.wallNow)
        guard case .create(let first) = election.read(nil, at: time.now, wallNow: time.wallNow) else {
            return XCTFail("expected a create")
        }
        election.wrote(first, at: time.now)
        time.advance(by: .seconds(2))
        guard case .update(let renewal) = election.begin(at: time.now, wallNow: time.wallNow) else {
            return XCTFail("a leader with a valid lease writes without reading first")
        }
        XCTAssertEqual(renewal.acquireTime, first.acquireTime)
        XCTAssertEqual(renewal.leaderTransitions, first.leaderTransitions)
        XCTAssertEqual(renewal.renewTime, "2023-11-14T22:13:22.000000Z")
        election.wrote(renewal, at: time.now)
        XCTAssertEqual(election.renewalDeadline, time.now.advanced(by: .seconds(10)))

        // The fast path failed (someone wrote in between): a read of our own record still renews it.
        guard case .update(let slow) = election.read(renewal, at: time.now, wallNow: time.wallNow) else {
            return XCTFail("the holder should renew after reading its own record")
        }
        XCTAssertEqual(slow.leaderTransitions, renewal.leaderTransitions)
        XCTAssertEqual(slow.acquireTime, first.acquireTime)
    }

    func testALeaderThatCannotRenewStopsAtTheRenewDeadlineBeforeTheLeaseExpires() throws {
        var election = machine()
        let sent = time.now
        _ = election.begin(at: sent, wallNow: time.wallNow)
        guard case .create(let record) = election.read(nil, at: time.now, wallNow: time.wallNow) else {
            return XCTFail("expected a create")
        }
        // The write took three seconds to answer: the deadline still counts from when it was sent.
        time.advance(by: .seconds(3))
        election.wrote(record, at: time.now)
        XCTAssertEqual(election.renewalDeadline, sent.advanced(by: .seconds(10)))
        time.advance(by: .seconds(6))
        XCTAssertTrue(election.isLeading(at: time.now))
        time.advance(by: .seconds(1))
        XCTAssertFalse(election.isLeading(at: time.now), "10 s after the last renewal was sent, stop acting")

        // A standby that saw that same write cannot take over before 15 s after it.
        var standby = machine("standby")
        _ = standby.begin(at: sent, wallNow: time.wallNow)
        XCTAssertEqual(standby.read(record, at: sent, wallNow: time.wallNow), .heldByOther("me"))
        XCTAssertEqual(standby.read(record, at: time.now, wallNow: time.wallNow), .heldByOther("me"))
    }

    func testAnotherHolderInTheLockEndsLeadershipAtOnce() throws {
        var election = machine()
        _ = election.begin(at: time.now, wallNow: time.wallNow)
        guard case .create(let record) = election.read(nil, at: time.now, wallNow: time.wallNow) else {
            return XCTFail("expected a create")
        }
        election.wrote(record, at: time.now)
        time.advance(by: .seconds(2))
        _ = election.begin(at: time.now, wallNow: time.wallNow)
        XCTAssertEqual(
            election.read(held(by: "intruder"), at: time.now, wallNow: time.wallNow), .heldByOther("intruder"))
        XCTAssertNil(election.renewalDeadline)
        XCTAssertFalse(election.isLeading(at: time.now))
    }

    func testReleaseEmptiesTheLeaseAndAStandbyTakesItAtOnce() throws {
        var election = machine()
        XCTAssertNil(election.releaseRecord(wallNow: time.wallNow), "only a holder releases")
        _ = election.begin(at: time.now, wallNow: time.wallNow)
        guard case .update(let record) = election.read(held(by: ""), at: time.now, wallNow: time.wallNow) else {
            return XCTFail("an empty holder is free to take")
        }
        election.wrote(record, at: time.now)
        let release = try XCTUnwrap(election.releaseRecord(wallNow: time.wallNow))
        XCTAssertEqual(release.holderIdentity, "")
        XCTAssertEqual(release.leaseDurationSeconds, 1)
        XCTAssertEqual(release.leaderTransitions, record.leaderTransitions)
        election.wrote(release, at: time.now)
        XCTAssertFalse(election.holdsLock)

        var standby = machine("standby")
        _ = standby.begin(at: time.now, wallNow: time.wallNow)
        guard case .update(let taken) = standby.read(release, at: time.now, wallNow: time.wallNow) else {
            return XCTFail("a released lease is taken without waiting")
        }
        XCTAssertEqual(taken.holderIdentity, "standby")
        XCTAssertEqual(taken.leaderTransitions, record.leaderTransitions + 1)
    }

    func testLeaseSpecRoundTrip() {
        let record = held(by: "node-1_abc", transitions: 7)
        XCTAssertEqual(LeaderElectionRecord(leaseSpec: record.leaseSpec), record)
        XCTAssertEqual(record.leaseSpec["leaseTransitions"], 7)
        XCTAssertEqual(LeaderElectionRecord(leaseSpec: nil).holderIdentity, "")
    }

    func testFlagsDefaultsAndUpstreamValidation() throws {
        var flags = FlagSet(LeaderElectionConfiguration.flagDefinitions(resourceName: "kube-scheduler"))
        try flags.parse([])
        let defaults = try LeaderElectionConfiguration(flags: flags, resourceName: "kube-scheduler")
        XCTAssertTrue(defaults.leaderElect)
        XCTAssertEqual(defaults.leaseDuration, .seconds(15))
        XCTAssertEqual(defaults.renewDeadline, .seconds(10))
        XCTAssertEqual(defaults.retryPeriod, .seconds(2))
        XCTAssertEqual(defaults.resourceLock, "leases")
        XCTAssertEqual(defaults.resourceName, "kube-scheduler")
        XCTAssertEqual(defaults.resourceNamespace, "kube-system")

        var given = FlagSet(LeaderElectionConfiguration.flagDefinitions(resourceName: "kube-scheduler"))
        try given.parse([
            "--leader-elect-lease-duration=30s", "--leader-elect-renew-deadline=20s", "--leader-elect-retry-period=5s",
            "--leader-elect-resource-name=sched", "--leader-elect-resource-namespace=ops",
        ])
        let custom = try LeaderElectionConfiguration(flags: given, resourceName: "kube-scheduler")
        XCTAssertEqual(custom.leaseDuration, .seconds(30))
        XCTAssertEqual(custom.resourceName, "sched")
        XCTAssertEqual(custom.resourceNamespace, "ops")

        var bad = LeaderElectionConfiguration(resourceName: "x")
        bad.renewDeadline = .seconds(15)
        XCTAssertEqual(
            bad.validate(),
            ["leaderElection.leaseDuration: Invalid value: \"15s\": LeaseDuration must be greater than RenewDeadline"])
        bad = LeaderElectionConfiguration(resourceName: "x")
        bad.retryPeriod = .seconds(9)
        XCTAssertEqual(bad.validate(), ["renewDeadline must be greater than retryPeriod*JitterFactor"])
        bad.leaderElect = false
        XCTAssertEqual(bad.validate(), [], "nothing to check when leader election is off")

        var broken = FlagSet(LeaderElectionConfiguration.flagDefinitions(resourceName: "x"))
        try broken.parse(["--leader-elect-retry-period=soon"])
        XCTAssertThrowsError(try LeaderElectionConfiguration(flags: broken, resourceName: "x")) { error in
            XCTAssertEqual(
                (error as? FlagError)?.message,
                "invalid argument \"soon\" for \"--leader-elect-retry-period\" flag: time: invalid duration \"soon\"")
        }
    }

    func testAnElectorRefusesDurationsThatCouldLetTwoLead() throws {
        let client = try RESTClient(configuration: ClientConfiguration(server: "https://127.0.0.1:1"))
        let lock = LeaseLock(namespace: "kube-system", name: "s", client: client)
        var configuration = LeaderElectionConfiguration(resourceName: "s")
        configuration.renewDeadline = .seconds(20)
        configuration.leaderElect = false
        XCTAssertThrowsError(try LeaderElector(lock: lock, configuration: configuration, identity: "me")) { error in
            XCTAssertEqual(
                error as? LeaderElectionError,
                .invalidConfiguration([
                    "leaderElection.leaseDuration: Invalid value: \"20s\": LeaseDuration must be greater than RenewDeadline"
                ]))
        }
        XCTAssertThrowsError(
            try LeaderElector(lock: lock, configuration: LeaderElectionConfiguration(resourceName: "s"), identity: ""))
        XCTAssertTrue(LeaderElector.defaultIdentity().contains("_"))
    }

    func testLockTypesOfOlderGuidesBecomeLeasesAndUnknownOnesFail() throws {
        let client = try RESTClient(configuration: ClientConfiguration(server: "https://127.0.0.1:1"))
        for type in ["leases", "endpoints", "configmaps", "endpointsleases", "configmapsleases"] {
            let lock = try ResourceLockType.lock(type: type, namespace: "kube-system", name: "s", client: client)
            XCTAssertTrue(lock is LeaseLock, type)
            XCTAssertEqual(lock.description, "kube-system/s")
        }
        XCTAssertThrowsError(try ResourceLockType.lock(type: "pods", namespace: "n", name: "s", client: client)) {
            XCTAssertEqual($0 as? ResourceLockError, .invalidLockType("pods"))
        }
    }
}

/// The elector's loop on a fake clock over an in-memory lock: the renew deadline is kept to the tick.
final class LeaderElectorLoopTests: XCTestCase {
    /// A lock in memory whose writes can be made to fail, as an unreachable API server's would.
    private final class MemoryLock: ResourceLock {
        private let state = LockedState()

        private actor LockedState {
            var record: LeaderElectionRecord?
            var failWrites = false
            func set(_ record: LeaderElectionRecord) throws {
                if failWrites { throw ClientError.connectionClosed }
                self.record = record
            }
            func failing() { failWrites = true }
        }

        var description: String { "memory/lock" }
        func get() async throws -> LeaderElectionRecord? { await state.record }
        func create(_ record: LeaderElectionRecord) async throws { try await state.set(record) }
        func update(_ record: LeaderElectionRecord) async throws { try await state.set(record) }
        func failWrites() async { await state.failing() }
        var holder: String? { get async { await state.record?.holderIdentity } }
    }

    private actor Stops {
        var at: ContinuousClock.Instant?
        var workCancelled = false
        func stop(_ instant: ContinuousClock.Instant) { at = instant }
        func cancelled() { workCancelled = true }
    }

    func testALeaderThatCannotWriteStopsAtItsRenewDeadlineNotLater() async throws {
        let time = FakeTime()
        let lock = MemoryLock()
        let elector = try LeaderElector(
            lock: lock, configuration: LeaderElectionConfiguration(resourceName: "lock"), identity: "me",
            timeSource: time, logger: Logger(label: "loop-tests") { _ in SwiftLogNoOpLogHandler() })
        let stops = Stops()
        let start = time.now
        let run = Task {
            await elector.run(
                onStartedLeading: {
                    while !Task.isCancelled { try? await Task.sleep(for: .seconds(60)) }
                    await stops.cancelled()
                },
                onStoppedLeading: { await stops.stop(time.now) })
        }
        for _ in 0..<2000 where !elector.isLeader { try await Task.sleep(for: .milliseconds(1)) }
        XCTAssertTrue(elector.isLeader, "a free lock is acquired on the first attempt")
        XCTAssertTrue(elector.holdsValidLease)

        // Renewals succeed for a while, then every write fails from 4 s on.
        var stoppedAt: ContinuousClock.Instant?
        var failing = false
        while stoppedAt == nil, time.now - start < .seconds(20) {
            if !failing, time.now - start >= .seconds(4) {
                await lock.failWrites()
                failing = true
            }
            for _ in 0..<2000 where time.sleeperCount == 0 { try await Task.sleep(for: .milliseconds(1)) }
            time.advance(by: .milliseconds(250))
            try await Task.sleep(for: .milliseconds(2))
            stoppedAt = await stops.at
        }
        let stopped = try XCTUnwrap(stoppedAt, "the leader never stopped")
        // The last successful renewal was sent at 4 s at the latest (2 s retry period); it must stop
        // by 10 s after that, and well before the 15 s others wait.
        XCTAssertLessThanOrEqual(stopped - start, .seconds(14.25))
        XCTAssertGreaterThanOrEqual(
            stopped - start, .seconds(12), "a renewal at 2 s (and perhaps 4 s) keeps it leading until 12 s at least")
        XCTAssertFalse(elector.isLeader)
        XCTAssertFalse(elector.holdsValidLease)
        await run.value
        let workCancelled = await stops.workCancelled
        XCTAssertTrue(workCancelled)
        let holder = await lock.holder
        XCTAssertEqual(holder, "me", "the lock was never handed over: only the leader's own deadline stopped it")
    }
}

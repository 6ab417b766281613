import APIMachinery
import Foundation
import Logging
import TestSupport
import XCTest

@testable import Client

/// Electors against the real API server, on short durations and the real clock.
final class LeaderElectionTests: XCTestCase {
    /// What the callbacks of one elector saw.
    private actor Observer {
        private(set) var started = 0
        private(set) var stopped = 0
        private(set) var workCancelled = false
        private(set) var leaders: [String] = []

        func didStart() { started += 1 }
        func didStop() { stopped += 1 }
        func didCancelWork() { workCancelled = true }
        func saw(_ leader: String) { leaders.append(leader) }
    }

    /// A running elector and what it saw.
    private struct Candidate {
        let elector: LeaderElector
        let observer: Observer
        let task: Task<Void, Never>
    }

    private func adminClientAndNamespace() async throws -> (RESTClient, String) {
        let endpoint = try await LocalAPIServer.shared.start()
        var configuration = try ClientConfiguration.load(kubeconfigPath: endpoint.kubeconfigPath)
        configuration.qps = -1
        let client = try RESTClient(configuration: configuration)
        let namespace = uniqueNamespace("election")
        try await client.createNamespace(namespace)
        return (client, namespace)
    }

    private func candidate(
        _ identity: String, client: RESTClient, namespace: String, leaseDuration: Duration = .seconds(4),
        renewDeadline: Duration = .seconds(3), events: EventRecorder? = nil
    ) throws -> Candidate {
        var configuration = LeaderElectionConfiguration(resourceName: "test-lock")
        configuration.resourceNamespace = namespace
        configuration.leaseDuration = leaseDuration
        configuration.renewDeadline = renewDeadline
        configuration.retryPeriod = .milliseconds(250)
        let elector = try LeaderElector(
            lock: LeaseLock(namespace: namespace, name: "test-lock", client: client), configuration: configuration,
            identity: identity, logger: Logger(label: "election-tests") { _ in SwiftLogNoOpLogHandler() },
            eventRecorder: events)
        let observer = Observer()
        let task = Task {
            await elector.run(
                onStartedLeading: {
                    await observer.didStart()
                    // The work runs until leadership ends; it must see the cancellation.
                    while !Task.isCancelled { try? await Task.sleep(for: .seconds(60)) }
                    await observer.didCancelWork()
                },
                onStoppedLeading: { await observer.didStop() },
                onNewLeader: { await observer.saw($0) })
        }
        return Candidate(elector: elector, observer: observer, task: task)
    }

    private func lease(_ client: RESTClient, _ namespace: String) async throws -> JSON {
        try await client.getJSON(
            path: ResourcePath.path(
                group: "coordination.k8s.io", version: "v1", namespace: namespace, resource: "leases",
                name: "test-lock"))
    }

    /// Polls `condition` every 50 ms for up to `seconds`; the time it took, or nil.
    private func waitFor(seconds: Double, _ condition: () async throws -> Bool) async rethrows -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(seconds) {
            if try await condition() { return ContinuousClock.now - start }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    func testTwoElectorsOnOneLeaseExactlyOneLeads() async throws {
        let (client, namespace) = try await adminClientAndNamespace()
        let events = EventRecorder(
            client: client, reportingController: "election-test", reportingInstance: "test",
            logger: Logger(label: "election-tests") { _ in SwiftLogNoOpLogHandler() })
        let recording = Task { await events.run() }
        let first = try candidate("first", client: client, namespace: namespace, events: events)
        let second = try candidate("second", client: client, namespace: namespace, events: events)
        let led = await waitFor(seconds: 10) { first.elector.isLeader || second.elector.isLeader }
        XCTAssertNotNil(led, "nobody became leader")
        // Several renewals later, still exactly one leader, and the lease names it.
        try await Task.sleep(for: .seconds(1.5))
        XCTAssertNotEqual(first.elector.isLeader, second.elector.isLeader)
        let leader = first.elector.isLeader ? first : second
        let standby = first.elector.isLeader ? second : first
        let started = await leader.observer.started
        let standbyStarted = await standby.observer.started
        XCTAssertEqual(started, 1)
        XCTAssertEqual(standbyStarted, 0)
        let spec = try await lease(client, namespace)["spec"]
        XCTAssertEqual(spec?["holderIdentity"]?.stringValue, leader.elector.identity)
        XCTAssertEqual(spec?["leaseDurationSeconds"], 4)
        XCTAssertEqual(spec?["leaseTransitions"], 0)
        XCTAssertNotNil(spec?["renewTime"]?.stringValue.flatMap(Timestamp.parse))
        let seen = await standby.observer.leaders
        XCTAssertEqual(seen, [leader.elector.identity])
        XCTAssertEqual(standby.elector.leader, leader.elector.identity)
        // As upstream, the new leader is announced as an event on the Lease.
        let announced = try await client.getJSON(
            path: ResourcePath.path(group: "events.k8s.io", version: "v1", namespace: namespace, resource: "events"))
        let notes = announced["items"]?.arrayValue?.compactMap { $0["note"]?.stringValue }
        XCTAssertEqual(notes, ["\(leader.elector.identity) became leader"])
        XCTAssertEqual(announced["items"]?.arrayValue?.first?[path: "regarding", "kind"], "Lease")
        XCTAssertEqual(announced["items"]?.arrayValue?.first?["reason"], "LeaderElection")
        recording.cancel()
        first.task.cancel()
        second.task.cancel()
        _ = await (first.task.value, second.task.value)
        await client.shutdown()
    }

    func testCancellingTheLeaderReleasesTheLeaseAndTheStandbyTakesOverAtOnce() async throws {
        let (client, namespace) = try await adminClientAndNamespace()
        let first = try candidate("first", client: client, namespace: namespace)
        let firstLed = await waitFor(seconds: 10) { first.elector.isLeader }
        XCTAssertNotNil(firstLed)
        let second = try candidate("second", client: client, namespace: namespace)
        let secondSaw = await waitFor(seconds: 5) { second.elector.leader == "first" }
        XCTAssertNotNil(secondSaw)

        first.task.cancel()
        await first.task.value
        let firstCancelled = await first.observer.workCancelled
        let firstStopped = await first.observer.stopped
        XCTAssertTrue(firstCancelled)
        XCTAssertEqual(firstStopped, 1)
        XCTAssertFalse(first.elector.isLeader)
        // Without the release the standby would wait out the 4 s lease; with it, a jittered retry
        // period (at most 2.2 × 250 ms) plus a request or two, with room for a loaded machine.
        let took = await waitFor(seconds: 3.5) { second.elector.isLeader }
        let elapsed = try XCTUnwrap(took, "the standby did not take over before the lease would have expired")
        XCTAssertLessThan(elapsed, .seconds(3), "sooner than the 4 s lease could have expired")
        let spec = try await lease(client, namespace)["spec"]
        XCTAssertEqual(spec?["holderIdentity"], "second")
        XCTAssertEqual(spec?["leaseTransitions"], 1)
        second.task.cancel()
        await second.task.value
        let released = try await lease(client, namespace)["spec"]
        XCTAssertEqual(released?["holderIdentity"], "")
        XCTAssertEqual(released?["leaseDurationSeconds"], 1)
        await client.shutdown()
    }

    func testALeaderWhoseLeaseIsTakenByADirectWriteStopsLeading() async throws {
        let (client, namespace) = try await adminClientAndNamespace()
        let leader = try candidate("leader", client: client, namespace: namespace)
        let led = await waitFor(seconds: 10) { leader.elector.isLeader }
        XCTAssertNotNil(led)

        var taken = try await lease(client, namespace)
        taken.set(["spec", "holderIdentity"], to: "intruder")
        taken.set(["spec", "renewTime"], to: .string(Timestamp.nowMicro()))
        _ = try await client.putJSON(
            path: ResourcePath.path(
                group: "coordination.k8s.io", version: "v1", namespace: namespace, resource: "leases",
                name: "test-lock"),
            taken)
        // Its next renewal meets a 409, reads the intruder's record, and stops well within the deadline.
        let stopped = await waitFor(seconds: 3) { await leader.observer.stopped == 1 }
        XCTAssertNotNil(stopped, "the leader kept leading after losing the lease")
        XCTAssertFalse(leader.elector.isLeader)
        await leader.task.value
        let workCancelled = await leader.observer.workCancelled
        XCTAssertTrue(workCancelled)
        let spec = try await lease(client, namespace)["spec"]
        XCTAssertEqual(spec?["holderIdentity"], "intruder", "a lost leader must not write the lease again")
        await client.shutdown()
    }
}

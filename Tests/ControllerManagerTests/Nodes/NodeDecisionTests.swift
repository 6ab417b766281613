import APIMachinery
import Client
import Foundation
import XCTest

@testable import ControllerManager

final class TaintEvictionPlanTests: XCTestCase {
    private let unreachable = Taint(key: "node.kubernetes.io/unreachable", effect: "NoExecute")
    private let custom = Taint(key: "example.com/maintenance", effect: "NoExecute", value: "yes")

    private func tolerate(_ key: String?, seconds: Int64? = nil, operator op: String = "Exists") -> Toleration {
        Toleration(effect: "NoExecute", key: key, operator: op, tolerationSeconds: seconds)
    }

    func testTolerationMatching() {
        XCTAssertTrue(tolerate(nil).tolerates(custom), "an empty key with Exists tolerates everything")
        XCTAssertTrue(Toleration(key: "example.com/maintenance", operator: "Equal", value: "yes").tolerates(custom))
        XCTAssertFalse(Toleration(key: "example.com/maintenance", value: "no").tolerates(custom))
        XCTAssertFalse(Toleration(effect: "NoSchedule", operator: "Exists").tolerates(custom))
    }

    func testPlansFollowTheShortestTolerationOfTheTaintsPresent() {
        let now = ContinuousClock.now
        XCTAssertEqual(TaintEvictionPlan.plan(taints: [], tolerations: [], now: now, scheduledSince: nil), .cancel)
        XCTAssertEqual(
            TaintEvictionPlan.plan(taints: [unreachable], tolerations: [], now: now, scheduledSince: nil), .deleteNow)
        XCTAssertEqual(
            TaintEvictionPlan.plan(
                taints: [unreachable, custom], tolerations: [tolerate("node.kubernetes.io/unreachable")], now: now,
                scheduledSince: nil), .deleteNow, "one untolerated taint is enough")
        XCTAssertEqual(
            TaintEvictionPlan.plan(
                taints: [unreachable], tolerations: [tolerate("node.kubernetes.io/unreachable")], now: now,
                scheduledSince: nil), .cancel, "tolerated forever")
        XCTAssertEqual(
            TaintEvictionPlan.plan(
                taints: [unreachable, custom],
                tolerations: [tolerate("node.kubernetes.io/unreachable", seconds: 300), tolerate(nil, seconds: 30)],
                now: now, scheduledSince: nil),
            .schedule(createdAt: now, fireAt: now.advanced(by: .seconds(30))),
            "each taint uses its first matching toleration; the shortest of those wins")
        XCTAssertEqual(
            TaintEvictionPlan.plan(
                taints: [unreachable],
                tolerations: [tolerate("node.kubernetes.io/unreachable", seconds: 300), tolerate(nil, seconds: 30)],
                now: now, scheduledSince: nil),
            .schedule(createdAt: now, fireAt: now.advanced(by: .seconds(300))),
            "a toleration no taint needed does not count")
        XCTAssertEqual(
            TaintEvictionPlan.plan(
                taints: [unreachable], tolerations: [tolerate(nil, seconds: -5)], now: now, scheduledSince: nil),
            .schedule(createdAt: now, fireAt: now), "a negative tolerationSeconds means now")
        let earlier = now.advanced(by: .seconds(-10))
        XCTAssertEqual(
            TaintEvictionPlan.plan(
                taints: [unreachable], tolerations: [tolerate(nil, seconds: 30)], now: now, scheduledSince: earlier),
            .keep, "a scheduled deletion keeps its timer")
    }

    func testTimedDeletionsFireOnTheInjectedClockAndCanBeCancelled() async throws {
        let time = FakeTime()
        let deletions = TimedDeletions(time: time)
        let fired = NodeTestCounter()
        let first = ObjectKey(namespace: "ns", name: "a")
        let second = ObjectKey(namespace: "ns", name: "b")
        deletions.add(first, createdAt: time.now, fireAt: time.now.advanced(by: .seconds(30))) {
            fired.increment()
            return true
        }
        deletions.add(second, createdAt: time.now, fireAt: time.now.advanced(by: .seconds(30))) {
            XCTFail("cancelled work never runs")
            return true
        }
        XCTAssertNotNil(deletions.scheduledSince(first))
        XCTAssertTrue(deletions.cancel(second))
        try await NodeTestHarness.poll { time.sleeperCount == 1 }
        time.advance(by: .seconds(29))
        try await Task.sleep(for: .milliseconds(50))
        XCTAssertEqual(fired.value, 0)
        time.advance(by: .seconds(1))
        try await NodeTestHarness.poll { fired.value == 1 }
        try await NodeTestHarness.poll { deletions.scheduledSince(first) == nil }
        XCTAssertFalse(deletions.cancel(first), "work that ran is forgotten without a cancellation to report")
    }
}

final class NodeHealthCheckTests: XCTestCase {
    private let check = NodeHealthCheck(monitorGracePeriod: .seconds(50), startupGracePeriod: .seconds(60))
    private let start = Date(timeIntervalSince1970: 1_800_000_000)

    private func node(heartbeat: Date?) -> Node {
        var node = Node(
            metadata: ObjectMeta(creationTimestamp: Timestamp.format(epochSeconds: 1_800_000_000), name: "n"))
        if let heartbeat {
            let stamp = Timestamp.format(epochSeconds: Int64(heartbeat.timeIntervalSince1970))
            node.status.conditions = [
                NodeCondition(type: "Ready", status: "True", lastHeartbeatTime: stamp, lastTransitionTime: stamp),
                NodeCondition(type: "MemoryPressure", status: "False", lastHeartbeatTime: stamp),
                NodeCondition(type: "NetworkUnavailable", status: "False"),
            ]
        }
        return node
    }

    private func lease(renewed: Date) -> Lease {
        Lease(
            spec: LeaseSpec(renewTime: Timestamp.format(epochMicroseconds: Int64(renewed.timeIntervalSince1970 * 1e6))))
    }

    func testARenewedLeaseKeepsANodeHealthyAndASilentOneGoesUnknown() throws {
        let node = node(heartbeat: start)
        var result = check.check(node: node, lease: lease(renewed: start), saved: nil, now: start)
        XCTAssertNil(result.statusUpdate)
        XCTAssertEqual(result.gracePeriod, .seconds(50))
        // The status is never posted again, but the Lease is renewed: healthy.
        let later = start.addingTimeInterval(45)
        result = check.check(node: node, lease: lease(renewed: later), saved: result.health, now: later)
        XCTAssertNil(result.statusUpdate)
        XCTAssertEqual(result.health.probeTimestamp, later)
        // Then nothing for the grace period.
        let silent = later.addingTimeInterval(50)
        XCTAssertNil(
            check.check(node: node, lease: lease(renewed: later), saved: result.health, now: silent).statusUpdate)
        let past = silent.addingTimeInterval(1)
        result = check.check(node: node, lease: lease(renewed: later), saved: result.health, now: past)
        let update = try XCTUnwrap(result.statusUpdate)
        XCTAssertEqual(result.observedReady.status, "True")
        XCTAssertEqual(result.currentReady?.status, "Unknown")
        let ready = try XCTUnwrap(update.status.condition("Ready"))
        XCTAssertEqual(ready.reason, "NodeStatusUnknown")
        XCTAssertEqual(ready.message, "Kubelet stopped posting node status.")
        XCTAssertEqual(update.status.condition("MemoryPressure")?.status, "Unknown")
        XCTAssertEqual(update.status.condition("NetworkUnavailable")?.status, "False", "left to the network provider")
        XCTAssertEqual(update.status.condition("DiskPressure")?.reason, "NodeStatusNeverUpdated")
        XCTAssertEqual(update.status.condition("DiskPressure")?.message, "Kubelet never posted node status.")
    }

    func testANodeThatNeverPostedStatusGetsTheStartupGracePeriod() throws {
        let node = node(heartbeat: nil)
        let early = check.check(node: node, lease: nil, saved: nil, now: start.addingTimeInterval(60))
        XCTAssertEqual(early.gracePeriod, .seconds(60))
        XCTAssertNil(early.statusUpdate, "judged from its creation time")
        let late = check.check(node: node, lease: nil, saved: early.health, now: start.addingTimeInterval(61))
        let ready = try XCTUnwrap(late.statusUpdate?.status.condition("Ready"))
        XCTAssertEqual(ready.reason, "NodeStatusNeverUpdated")
    }

    func testANewHeartbeatIsASignOfLife() {
        var result = check.check(node: node(heartbeat: start), lease: nil, saved: nil, now: start)
        let later = start.addingTimeInterval(40)
        result = check.check(node: node(heartbeat: later), lease: nil, saved: result.health, now: later)
        XCTAssertEqual(result.health.probeTimestamp, later)
        XCTAssertNil(
            check.check(
                node: node(heartbeat: later), lease: nil, saved: result.health, now: later.addingTimeInterval(50)
            )
            .statusUpdate)
    }
}

final class NodeTaintAndTTLRuleTests: XCTestCase {
    func testConditionTaintsFollowTheConditionsAndUnschedulable() {
        var node = Node()
        node.status.conditions = [
            NodeCondition(type: "Ready", status: "Unknown"), NodeCondition(type: "DiskPressure", status: "True"),
            NodeCondition(type: "MemoryPressure", status: "False"),
        ]
        node.spec.unschedulable = true
        node.spec.taints = [
            Taint(key: "node.kubernetes.io/memory-pressure", effect: "NoSchedule"),
            Taint(key: "node.kubernetes.io/unreachable", effect: "NoExecute"),
            Taint(key: "example.com/mine", effect: "NoSchedule"),
        ]
        let (add, remove) = ConditionTaints.noScheduleDiff(for: node)
        XCTAssertEqual(
            add.map(\.key),
            ["node.kubernetes.io/unreachable", "node.kubernetes.io/disk-pressure", "node.kubernetes.io/unschedulable"])
        XCTAssertEqual(remove.map(\.key), ["node.kubernetes.io/memory-pressure"], "NoExecute and foreign taints stay")
    }

    func testTTLStepsUpAndDownWithHysteresis() {
        var sizing = TTLController.Sizing()
        var changes: [Int: Int] = [:]
        for count in 1...2001 where sizing.added() { changes[count] = sizing.ttlSeconds }
        XCTAssertEqual(changes, [101: 15, 501: 30, 1001: 60, 2001: 300])
        for _ in 0..<201 { XCTAssertFalse(sizing.deleted(), "at \(sizing.nodeCount)") }
        XCTAssertTrue(sizing.deleted())
        XCTAssertEqual(sizing.nodeCount, 1799)
        XCTAssertEqual(sizing.ttlSeconds, 60, "below 1800 the TTL drops")
        while sizing.nodeCount > 89 { _ = sizing.deleted() }
        XCTAssertEqual(sizing.ttlSeconds, 0)
    }
}

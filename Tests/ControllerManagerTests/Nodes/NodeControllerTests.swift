import APIMachinery
import Client
import Foundation
import XCTest

@testable import ControllerManager

final class NodeLifecycleControllerTests: XCTestCase {
    func testASilentNodeGoesUnknownIsTaintedAndItsPodsAreEvictedAsTheyTolerate() async throws {
        let harness = try await NodeTestHarness(prefix: "nodelifecycle")
        let silent = harness.unique("silent")
        let healthy = harness.unique("healthy")
        // Each in its own zone, so that one silent node is a fully disrupted zone but not a cluster-wide outage.
        try await harness.createReadyNode(silent, zone: harness.unique("za"))
        try await harness.createReadyNode(healthy, zone: harness.unique("zb"))
        let unreachable = { (seconds: Int64) in
            [
                Toleration(
                    effect: "NoExecute", key: "node.kubernetes.io/unreachable", operator: "Exists",
                    tolerationSeconds: seconds)
            ]
        }
        // Without tolerations of its own, DefaultTolerationSeconds (when enabled) gives a pod 300 s.
        let web = try await harness.createRunningPod("web", on: silent)
        try await harness.createRunningPod("doomed", on: silent, tolerations: unreachable(0))
        try await harness.createRunningPod("patient", on: silent, tolerations: unreachable(30))
        let webWait =
            web.spec.tolerations.first { $0.key == "node.kubernetes.io/unreachable" }?.tolerationSeconds ?? 0
        let context = try harness.context()
        let lifecycle = try NodeLifecycleController(context: context)
        let eviction = TaintEvictionController(context: context)
        try await harness.run([lifecycle, eviction])
        defer { Task { await harness.stop() } }

        // The healthy node's kubelet renews every 10 s of the fake clock; the silent one never again.
        let tick: () async throws -> Void = {
            try await harness.renewLease(healthy)
            harness.time.advance(by: .seconds(10))
        }
        _ = try await harness.eventually("the RegisteredNode event") {
            try await harness.eventReasons(about: silent, namespace: "default").contains("RegisteredNode") ? true : nil
        }
        let unknown = try await harness.eventually("the silent node going Unknown", step: tick) {
            let ready = try await harness.nodes.get(silent).status.condition("Ready")
            return ready?.status == "Unknown" ? ready : nil
        }
        XCTAssertEqual(unknown.reason, "NodeStatusUnknown")
        XCTAssertEqual(unknown.message, "Kubelet stopped posting node status.")
        let healthyReady = try await harness.nodes.get(healthy).status.condition("Ready")
        XCTAssertEqual(healthyReady?.status, "True")

        let tainted = try await harness.eventually("the unreachable NoExecute taint", step: tick) {
            let node = try await harness.nodes.get(silent)
            return node.spec.taints.contains { $0.key == "node.kubernetes.io/unreachable" && $0.effect == "NoExecute" }
                ? node : nil
        }
        XCTAssertNotNil(
            tainted.spec.taints.first { $0.key == "node.kubernetes.io/unreachable" && $0.effect == "NoExecute" }?
                .timeAdded)
        _ = try await harness.eventually("the unreachable NoSchedule taint") {
            try await harness.nodes.get(silent).spec.taints.contains {
                $0.key == "node.kubernetes.io/unreachable" && $0.effect == "NoSchedule"
            } ? true : nil
        }
        let healthyTaints = try await harness.nodes.get(healthy).spec.taints
        XCTAssertFalse(healthyTaints.contains { $0.effect == "NoExecute" })

        // A pod tolerating the taint for 0 s goes at once, marked as a disruption target first.
        let evicted = try await harness.eventually("the immediate eviction") {
            let current = try await harness.pods.get("doomed")
            return current.metadata.deletionTimestamp != nil ? current : nil
        }
        let target = evicted.status.conditions.first { $0.type == "DisruptionTarget" }
        XCTAssertEqual(target?.status, "True")
        XCTAssertEqual(target?.reason, "DeletionByTaintManager")
        XCTAssertEqual(target?.message, "Taint manager: deleting due to NoExecute taint")
        XCTAssertEqual(evicted.status.conditions.first { $0.type == "Ready" }?.status, "False")

        // The others were marked not ready and stay until their tolerations run out.
        let patient = try await harness.pods.get("patient")
        XCTAssertEqual(patient.status.conditions.first { $0.type == "Ready" }?.status, "False")
        XCTAssertNil(patient.metadata.deletionTimestamp)
        let reasons = try await harness.eventReasons(about: "patient", namespace: harness.namespace)
        XCTAssertTrue(reasons.contains("NodeNotReady"), "\(reasons)")
        let nodeReasons = try await harness.eventReasons(about: silent, namespace: "default")
        XCTAssertTrue(nodeReasons.contains("NodeNotReady"), "\(nodeReasons)")
        // Time moves on in kubelet-sized steps, the healthy node renewing, so the cluster never looks all down.
        let advance = { (seconds: Int64) in
            for _ in 0..<(seconds / 10) {
                try await tick()
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        try await advance(30)
        _ = try await harness.eventually("the 30 s pod's eviction") {
            try await harness.podIsGoing("patient") ? true : nil
        }
        if webWait > 30 {
            let webGoing = try await harness.podIsGoing("web")
            XCTAssertFalse(webGoing, "the default toleration is \(webWait) s")
            try await advance(webWait - 30)
        }
        _ = try await harness.eventually("the default-tolerating pod's eviction") {
            try await harness.podIsGoing("web") ? true : nil
        }
    }

    func testAConditionTaintFollowsTheConditionAndUnschedulable() async throws {
        let harness = try await NodeTestHarness(prefix: "nodetaints")
        let name = harness.unique("pressure")
        try await harness.createReadyNode(name, zone: harness.unique("zone"))
        let lifecycle = try NodeLifecycleController(context: try harness.context())
        try await harness.run([lifecycle])
        defer { Task { await harness.stop() } }

        try await harness.updateNode(name, status: true) {
            $0.status.conditions.append(NodeCondition(type: "MemoryPressure", status: "True"))
        }
        _ = try await harness.eventually("the memory-pressure taint") {
            try await harness.nodes.get(name).spec.taints.contains {
                $0.key == "node.kubernetes.io/memory-pressure" && $0.effect == "NoSchedule"
            } ? true : nil
        }
        try await harness.updateNode(name) { $0.spec.unschedulable = true }
        try await harness.updateNode(name, status: true) {
            $0.status.conditions.removeAll { $0.type == "MemoryPressure" }
        }
        let keys = try await harness.eventually("the unschedulable taint alone") {
            let keys = try await harness.nodes.get(name).spec.taints.map { $0.key ?? "" }
            return keys == ["node.kubernetes.io/unschedulable"] ? keys : nil
        }
        XCTAssertEqual(keys, ["node.kubernetes.io/unschedulable"])
    }
}

final class TaintEvictionControllerTests: XCTestCase {
    func testPodsGoAtOnceOrAfterTheirTolerationAndStayWhenTheTaintGoes() async throws {
        let harness = try await NodeTestHarness(prefix: "tainteviction")
        let name = harness.unique("tainted")
        try await harness.createReadyNode(name, zone: harness.unique("zone"))
        let tolerate = { (seconds: Int64?) in
            [
                Toleration(
                    effect: "NoExecute", key: "example.com/maintenance", operator: "Exists", tolerationSeconds: seconds)
            ]
        }
        try await harness.createRunningPod("plain", on: name)
        try await harness.createRunningPod("thirty", on: name, tolerations: tolerate(30))
        try await harness.createRunningPod("forever", on: name, tolerations: tolerate(nil))
        let eviction = TaintEvictionController(context: try harness.context())
        try await harness.run([eviction])
        defer { Task { await harness.stop() } }

        var node = try await harness.nodes.get(name)
        node.spec.taints = [Taint(key: "example.com/maintenance", effect: "NoExecute")]
        _ = try await harness.nodes.update(node)
        _ = try await harness.eventually("the untolerating pod's eviction") {
            try await harness.podIsGoing("plain") ? true : nil
        }
        // The 30 s timer runs on the fake clock: nothing happens until it has passed.
        try await NodeTestHarness.poll {
            eviction.deletions.fireAt(ObjectKey(namespace: harness.namespace, name: "thirty")) != nil
        }
        harness.time.advance(by: .seconds(29))
        try await Task.sleep(for: .milliseconds(300))
        let thirtyGoing = try await harness.podIsGoing("thirty")
        XCTAssertFalse(thirtyGoing)
        harness.time.advance(by: .seconds(1))
        _ = try await harness.eventually("the tolerating pod's eviction after 30 s") {
            try await harness.podIsGoing("thirty") ? true : nil
        }
        let foreverGoing = try await harness.podIsGoing("forever")
        XCTAssertFalse(foreverGoing)
        let reasons = try await harness.eventReasons(about: "thirty", namespace: harness.namespace)
        XCTAssertTrue(reasons.contains("TaintManagerEviction"), "\(reasons)")
    }

    func testRemovingTheTaintCancelsAScheduledEviction() async throws {
        let harness = try await NodeTestHarness(prefix: "taintcancel")
        let name = harness.unique("tainted")
        try await harness.createReadyNode(name, zone: harness.unique("zone"))
        try await harness.createRunningPod(
            "patient", on: name,
            tolerations: [Toleration(effect: "NoExecute", operator: "Exists", tolerationSeconds: 60)])
        let eviction = TaintEvictionController(context: try harness.context())
        try await harness.run([eviction])
        defer { Task { await harness.stop() } }

        var node = try await harness.nodes.get(name)
        node.spec.taints = [Taint(key: "example.com/maintenance", effect: "NoExecute")]
        node = try await harness.nodes.update(node)
        let key = ObjectKey(namespace: harness.namespace, name: "patient")
        try await NodeTestHarness.poll { eviction.deletions.fireAt(key) != nil }
        node.spec.taints = []
        _ = try await harness.nodes.update(node)
        try await NodeTestHarness.poll { eviction.deletions.fireAt(key) == nil }
        harness.time.advance(by: .seconds(120))
        try await Task.sleep(for: .milliseconds(300))
        let patientGoing = try await harness.podIsGoing("patient")
        XCTAssertFalse(patientGoing)
        let reasons = try await harness.eventually("the cancellation event") {
            let reasons = try await harness.eventReasons(about: "patient", namespace: harness.namespace)
            return reasons.contains("TaintManagerEviction") ? reasons : nil
        }
        XCTAssertEqual(reasons, ["TaintManagerEviction"])
    }
}

final class NodeIPAMAndTTLControllerTests: XCTestCase {
    func testNodesGetPodCIDRsOutsideTheServiceRangeAndAFullRangeIsReported() async throws {
        let harness = try await NodeTestHarness(prefix: "nodeipam")
        let existing = harness.unique("ipam-existing")
        try await harness.createReadyNode(existing, zone: "ipam", podCIDRs: ["10.200.0.0/24"])
        let context = try harness.context([
            "--allocate-node-cidrs", "--cluster-cidr=10.200.0.0/22", "--service-cluster-ip-range=10.200.1.0/24",
        ])
        let controller = try XCTUnwrap(NodeIPAMController.descriptor.make(context))
        try await harness.run([controller])
        defer { Task { await harness.stop() } }

        let first = harness.unique("ipam-a")
        let second = harness.unique("ipam-b")
        try await harness.createReadyNode(first, zone: "ipam")
        try await harness.createReadyNode(second, zone: "ipam")
        var assigned: [String] = []
        for name in [first, second] {
            let node = try await harness.eventually("a podCIDR for \(name)") {
                let node = try await harness.nodes.get(name)
                return node.spec.podCIDRs.isEmpty ? nil : node
            }
            XCTAssertEqual(node.spec.podCIDR, node.spec.podCIDRs.first)
            assigned += node.spec.podCIDRs
        }
        XCTAssertEqual(Set(assigned), ["10.200.2.0/24", "10.200.3.0/24"], "neither the taken nor the service range")

        let third = harness.unique("ipam-c")
        try await harness.createReadyNode(third, zone: "ipam")
        _ = try await harness.eventually("the CIDRNotAvailable event") {
            try await harness.eventReasons(about: third, namespace: "default").contains("CIDRNotAvailable") ? true : nil
        }
        try await harness.nodes.delete(first)
        let freed = try await harness.eventually(
            "the freed range reused", step: { harness.time.advance(by: .seconds(5)) }
        ) {
            let node = try await harness.nodes.get(third)
            return node.spec.podCIDRs.isEmpty ? nil : node.spec.podCIDRs
        }
        XCTAssertEqual(freed, assigned.first.map { [$0] })
    }

    func testTheIPAMControllerIsSkippedUnlessAllocationIsOn() async throws {
        let harness = try await NodeTestHarness(prefix: "nodeipamoff")
        defer { Task { await harness.stop() } }
        XCTAssertNil(try NodeIPAMController.descriptor.make(try harness.context()))
        XCTAssertThrowsError(try NodeIPAMController.descriptor.make(try harness.context(["--allocate-node-cidrs"])))
    }

    func testEveryNodeGetsTheTTLAnnotation() async throws {
        let harness = try await NodeTestHarness(prefix: "ttl")
        let name = harness.unique("ttl")
        try await harness.createReadyNode(name, zone: "ttl")
        let controller = TTLController(context: try harness.context())
        try await harness.run([controller])
        defer { Task { await harness.stop() } }
        let value = try await harness.eventually("the ttl annotation") {
            try await harness.nodes.get(name).metadata.annotations["node.alpha.kubernetes.io/ttl"]
        }
        XCTAssertEqual(value, "0", "a cluster of up to 100 nodes caches for 0 s")
    }
}

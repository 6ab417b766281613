import Foundation
import TestSupport
import XCTest

/// The real kube-scheduler against the real kube-apiserver over TLS: nodes are API objects, pods are created
/// with kubectl, and the scheduler's bindings, events and conditions are read back with kubectl.
final class SchedulerEndToEndTests: SchedulerClusterTestCase {
    override class var clusterAddress: String { "127.0.0.81" }

    func testPodsLandOnlyOnNodesThatFit() throws {
        let cluster = try cluster
        try createNode(cluster, "fit-small", cpu: "1")
        try createNode(cluster, "fit-big", cpu: "8", labels: ["disk": "ssd"])
        try createNode(
            cluster, "fit-tainted", cpu: "8",
            taints: #"[{"key":"node-role.kubernetes.io/control-plane","effect":"NoSchedule"}]"#)
        expectSuccess(try cluster.kubectl(["create", "namespace", "fit"]))
        try createPod(cluster, "fit", "needs-cpu", cpu: "3")
        try createPod(cluster, "fit", "wants-ssd", extraSpec: #""nodeSelector":{"disk":"ssd"},"#)
        try createPod(
            cluster, "fit", "tolerates", cpu: "6",
            extraSpec: #""tolerations":[{"key":"node-role.kubernetes.io/control-plane","operator":"Exists"}],"#
                + #""nodeSelector":{"kubernetes.io/hostname":"fit-tainted"},"#)
        XCTAssertEqual(try waitForNode(cluster, "fit", "needs-cpu"), "fit-big")
        XCTAssertEqual(try waitForNode(cluster, "fit", "wants-ssd"), "fit-big")
        XCTAssertEqual(try waitForNode(cluster, "fit", "tolerates"), "fit-tainted")
        // Events are written in the background; `kubectl get events` reads them in the core shape.
        let events = try eventMessages(cluster, "fit", "involvedObject.name=needs-cpu,reason=Scheduled")
        XCTAssertEqual(events, "Successfully assigned fit/needs-cpu to fit-big")
    }

    func testAnUnschedulablePodIsToldWhyAndScheduledWhenANodeFits() throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl(["create", "namespace", "wait"]))
        try createPod(cluster, "wait", "huge", cpu: "64")
        let message = try waitForCondition(cluster, "wait", "huge")
        XCTAssertTrue(message.hasPrefix("0/"), message)
        XCTAssertTrue(message.contains("Insufficient cpu"), message)
        let events = try eventMessages(cluster, "wait", "reason=FailedScheduling")
        XCTAssertEqual(events, message, "the event says what the condition says")
        try createNode(cluster, "wait-huge", cpu: "96")
        XCTAssertEqual(try waitForNode(cluster, "wait", "huge"), "wait-huge")
    }

    func testAPodForAnotherSchedulerStaysPending() throws {
        let cluster = try cluster
        try createNode(cluster, "other-node", cpu: "4")
        expectSuccess(try cluster.kubectl(["create", "namespace", "other"]))
        try createPod(cluster, "other", "theirs", extraSpec: #""schedulerName":"someone-else","#)
        try createPod(cluster, "other", "ours")
        XCTAssertNotEqual(try waitForNode(cluster, "other", "ours"), "")
        XCTAssertNil(
            try podField(cluster, "other", "theirs", "{.spec.nodeName}"), "a pod naming another scheduler is left alone"
        )
    }

    // MARK: Helpers

    /// The pod's node once it has one (empty after 20 s).
    private func waitForNode(_ cluster: TestCluster, _ namespace: String, _ name: String) throws -> String {
        try poll { try podField(cluster, namespace, name, "{.spec.nodeName}") } ?? ""
    }

    /// The message of the pod's PodScheduled=False condition once it has one.
    private func waitForCondition(_ cluster: TestCluster, _ namespace: String, _ name: String) throws -> String {
        try poll {
            try podField(cluster, namespace, name, #"{.status.conditions[?(@.type=="PodScheduled")].message}"#)
        } ?? ""
    }
}

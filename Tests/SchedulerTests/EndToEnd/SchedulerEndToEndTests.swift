import Foundation
import TestSupport
import XCTest

/// The real kube-scheduler against the real kube-apiserver over TLS: nodes are API objects, pods are created
/// with kubectl, and the scheduler's bindings, events and conditions are read back with kubectl.
final class SchedulerEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.81" }
    nonisolated(unsafe) static var scheduler: ComponentProcess?

    override class func clusterStarted(_ cluster: TestCluster) throws {
        scheduler = try ComponentProcess(
            executable: "kube-scheduler",
            arguments: [
                "--kubeconfig=\(cluster.kubeconfig)", "--bind-address=127.0.0.81", "--secure-port=10259",
                "--leader-elect=false", "--v=2",
            ], directory: cluster.directory)
    }

    override class func tearDown() {
        scheduler?.stop()
        scheduler = nil
        super.tearDown()
    }

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
        let events = try poll {
            let output = try cluster.kubectl([
                "get", "events", "-n", "fit", "--field-selector", "involvedObject.name=needs-cpu,reason=Scheduled",
                "-o", "jsonpath={.items[*].message}",
            ])
            return output.stdout.isEmpty ? nil : output.stdout
        }
        XCTAssertEqual(events, "Successfully assigned fit/needs-cpu to fit-big")
    }

    func testAnUnschedulablePodIsToldWhyAndScheduledWhenANodeFits() throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl(["create", "namespace", "wait"]))
        try createPod(cluster, "wait", "huge", cpu: "64")
        let message = try waitForCondition(cluster, "wait", "huge")
        XCTAssertTrue(message.hasPrefix("0/"), message)
        XCTAssertTrue(message.contains("Insufficient cpu"), message)
        let events = try poll {
            let output = try cluster.kubectl([
                "get", "events", "-n", "wait", "--field-selector", "reason=FailedScheduling", "-o",
                "jsonpath={.items[*].message}",
            ])
            return output.stdout.isEmpty ? nil : output.stdout
        }
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
        let node = expectSuccess(
            try cluster.kubectl(["get", "pod", "theirs", "-n", "other", "-o", "jsonpath={.spec.nodeName}"]))
        XCTAssertEqual(node, "", "a pod naming another scheduler must be left alone")
    }

    // MARK: Helpers

    private func createNode(
        _ cluster: TestCluster, _ name: String, cpu: String, labels: [String: String] = [:], taints: String = "[]"
    ) throws {
        var allLabels = labels
        allLabels["kubernetes.io/hostname"] = name
        let labelJSON = allLabels.map { #""\#($0.key)":"\#($0.value)""# }.joined(separator: ",")
        let resources = #"{"cpu":"\#(cpu)","memory":"32Gi","pods":"110"}"#
        let node = #"""
            {"apiVersion":"v1","kind":"Node","metadata":{"name":"\#(name)","labels":{\#(labelJSON)}},
             "spec":{"taints":\#(taints)},
             "status":{"capacity":\#(resources),"allocatable":\#(resources),
                       "conditions":[{"type":"Ready","status":"True"}]}}
            """#
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: node))
    }

    private func createPod(
        _ cluster: TestCluster, _ namespace: String, _ name: String, cpu: String = "100m", extraSpec: String = ""
    ) throws {
        let pod = #"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)","namespace":"\#(namespace)"},
             "spec":{\#(extraSpec)"containers":[{"name":"c","image":"nginx",
                     "resources":{"requests":{"cpu":"\#(cpu)","memory":"64Mi"}}}]}}
            """#
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: pod))
    }

    /// The pod's node once it has one (empty after 20 s).
    private func waitForNode(_ cluster: TestCluster, _ namespace: String, _ name: String) throws -> String {
        try poll {
            let node = try cluster.kubectl(["get", "pod", name, "-n", namespace, "-o", "jsonpath={.spec.nodeName}"])
            return node.stdout.isEmpty ? nil : node.stdout
        } ?? ""
    }

    /// The message of the pod's PodScheduled=False condition once it has one.
    private func waitForCondition(_ cluster: TestCluster, _ namespace: String, _ name: String) throws -> String {
        try poll {
            let output = try cluster.kubectl([
                "get", "pod", name, "-n", namespace, "-o",
                #"jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}"#,
            ])
            return output.stdout.isEmpty ? nil : output.stdout
        } ?? ""
    }

    private func poll(timeout: TimeInterval = 20, _ probe: () throws -> String?) rethrows -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let value = try probe() { return value }
            Thread.sleep(forTimeInterval: 0.2)
        }
        if let log = Self.scheduler?.log { print("kube-scheduler log:\n\(log.suffix(4000))") }
        return nil
    }
}

import Foundation
import TestSupport
import XCTest

/// Preemption through the real API: kube-scheduler evicts a lower-priority pod for a higher-priority one,
/// deleting the victim with its client and recording upstream's Preempted event.
final class DefaultPreemptionEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.87" }
    nonisolated(unsafe) static var scheduler: ComponentProcess?

    override class func clusterStarted(_ cluster: TestCluster) throws {
        scheduler = try ComponentProcess(
            executable: "kube-scheduler",
            arguments: [
                "--kubeconfig=\(cluster.kubeconfig)", "--bind-address=127.0.0.87", "--secure-port=10259",
                "--leader-elect=false", "--v=2",
            ], directory: cluster.directory)
    }

    override class func tearDown() {
        scheduler?.stop()
        scheduler = nil
        super.tearDown()
    }

    func testAHigherPriorityPodEvictsALowerPriorityOne() throws {
        let cluster = try cluster
        let resources = #"{"cpu":"2","memory":"8Gi","pods":"110"}"#
        let node = #"""
            {"apiVersion":"v1","kind":"Node",
             "metadata":{"name":"only","labels":{"kubernetes.io/hostname":"only"}},
             "status":{"capacity":\#(resources),"allocatable":\#(resources),
                       "conditions":[{"type":"Ready","status":"True"}]}}
            """#
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: node))
        expectSuccess(try cluster.kubectl(["create", "namespace", "preempt"]))
        try createPod(cluster, "low", priority: 1)
        XCTAssertEqual(try poll { try field(cluster, "low", "{.spec.nodeName}") }, "only")
        try createPod(cluster, "high", priority: 1000)
        let uid = try field(cluster, "high", "{.metadata.uid}") ?? ""
        // The victim is deleted (or terminating, if deletion is graceful) and the event names the preemptor.
        let gone = try poll {
            let output = try cluster.kubectl([
                "get", "pod", "low", "-n", "preempt", "--ignore-not-found", "-o",
                "jsonpath={.metadata.name}|{.metadata.deletionTimestamp}",
            ])
            // Empty: not found; `low|<time>`: terminating; `low|`: still there.
            return output.stdout.hasSuffix("|") ? nil : "deleted"
        }
        XCTAssertEqual(gone, "deleted")
        let event = try poll {
            let output = try cluster.kubectl([
                "get", "events", "-n", "preempt", "--field-selector", "involvedObject.name=low,reason=Preempted", "-o",
                "jsonpath={.items[*].message}",
            ])
            return output.stdout.isEmpty ? nil : output.stdout
        }
        XCTAssertEqual(event, "Preempted by pod \(uid) on node only")
    }

    private func createPod(_ cluster: TestCluster, _ name: String, priority: Int) throws {
        let pod = #"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)","namespace":"preempt"},
             "spec":{"priority":\#(priority),"containers":[{"name":"c","image":"nginx",
                     "resources":{"requests":{"cpu":"2","memory":"64Mi"}}}]}}
            """#
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: pod))
    }

    private func field(_ cluster: TestCluster, _ pod: String, _ path: String) throws -> String? {
        let output = try cluster.kubectl(["get", "pod", pod, "-n", "preempt", "-o", "jsonpath=\(path)"])
        return output.stdout.isEmpty ? nil : output.stdout
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

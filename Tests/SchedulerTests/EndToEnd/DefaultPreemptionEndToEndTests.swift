import Foundation
import TestSupport
import XCTest

/// Preemption through the real API: kube-scheduler evicts a lower-priority pod for a higher-priority one,
/// deleting the victim with its client and recording upstream's Preempted event.
final class DefaultPreemptionEndToEndTests: SchedulerClusterTestCase {
    override class var clusterAddress: String { "127.0.0.87" }

    func testAHigherPriorityPodEvictsALowerPriorityOne() throws {
        let cluster = try cluster
        try createNode(cluster, "only", cpu: "2")
        expectSuccess(try cluster.kubectl(["create", "namespace", "preempt"]))
        // Pods take their priority from a PriorityClass: the Priority admission plugin refuses a bare number.
        expectSuccess(try cluster.kubectl(["create", "priorityclass", "low", "--value=1"]))
        expectSuccess(try cluster.kubectl(["create", "priorityclass", "high", "--value=1000"]))
        try createPod(cluster, "preempt", "low", cpu: "2", extraSpec: #""priorityClassName":"low","#)
        XCTAssertEqual(try poll { try podField(cluster, "preempt", "low", "{.spec.nodeName}") }, "only")
        try createPod(cluster, "preempt", "high", cpu: "2", extraSpec: #""priorityClassName":"high","#)
        let uid = try podField(cluster, "preempt", "high", "{.metadata.uid}") ?? ""
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
        let event = try eventMessages(cluster, "preempt", "involvedObject.name=low,reason=Preempted")
        XCTAssertEqual(event, "Preempted by pod \(uid) on node only")
    }
}

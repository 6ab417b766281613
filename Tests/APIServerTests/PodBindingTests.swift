import TestSupport
import Foundation
import XCTest

/// pods/binding, the scheduler's call: it assigns a node once, which a pod update may not do.
final class PodBindingTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.45" }

    func testBindingAssignsTheNodeOnce() throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl(["run", "web", "--image=nginx:1.27"]))
        let binding =
            #"{"apiVersion":"v1","kind":"Binding","metadata":{"name":"web"},"target":{"kind":"Node","name":"node-1"}}"#
        expectSuccess(
            try cluster.kubectl(
                ["create", "--raw", "/api/v1/namespaces/default/pods/web/binding", "-f", "-"], input: binding))
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["get", "pod", "web", "-o", "jsonpath={.spec.nodeName}"])), "node-1")
        let again = try cluster.kubectl(
            ["create", "--raw", "/api/v1/namespaces/default/pods/web/binding", "-f", "-"], input: binding)
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains(#"pod web is already assigned to node "node-1""#), again.stderr)
        // A plain update still may not move the pod.
        let moved = try cluster.kubectl(["patch", "pod", "web", "-p", #"{"spec":{"nodeName":"node-2"}}"#])
        XCTAssertNotEqual(moved.status, 0)
        XCTAssertTrue(moved.stderr.contains("Forbidden: pod updates may not change fields"), moved.stderr)
    }
}

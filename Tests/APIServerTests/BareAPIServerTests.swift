import Foundation
import TestSupport
import XCTest

/// A kube-apiserver run without a controller-manager behaves as upstream's: what the controllers do is left
/// undone. Namespaces are not emptied, pods in a new namespace find no `default` account, quotas are not
/// measured and aggregated roles stay empty.
final class BareAPIServerTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.137" }
    override class var controllers: [String]? { nil }

    func testADeletedNamespaceStaysTerminatingWithItsContent() throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl(["create", "namespace", "left"]))
        expectSuccess(try cluster.kubectl(["create", "configmap", "kept", "-n", "left"]))
        expectSuccess(try cluster.kubectl(["delete", "namespace", "left", "--wait=false"]))
        // Long enough for a stand-in to have emptied and removed it many times over.
        let deadline = Date().addingTimeInterval(1)
        while Date() < deadline {
            let phase = try cluster.kubectl(["get", "namespace", "left", "-o", "jsonpath={.status.phase}"])
            XCTAssertEqual(expectSuccess(phase), "Terminating")
            Thread.sleep(forTimeInterval: 0.2)
        }
        let finalizers = try cluster.kubectl(["get", "namespace", "left", "-o", "jsonpath={.spec.finalizers}"])
        XCTAssertEqual(expectSuccess(finalizers), #"["kubernetes"]"#)
        expectSuccess(try cluster.kubectl(["get", "configmap", "kept", "-n", "left"]))
    }

    func testAPodInANewNamespaceIsRefusedForWantOfItsDefaultAccount() throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl(["create", "namespace", "fresh"]))
        let pod = """
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
             "spec": {"containers": [{"name": "web", "image": "nginx"}]}}
            """
        expectFailure(
            try cluster.kubectl(["create", "-n", "fresh", "-f", "-"], input: pod),
            #"Error from server (Forbidden): error when creating "STDIN": pods "web" is forbidden: "#
                + #"error looking up service account fresh/default: serviceaccount "default" not found"#)
        let accounts = try cluster.kubectl(["get", "serviceaccounts", "-n", "fresh", "-o", "name"])
        XCTAssertEqual(expectSuccess(accounts), "")
    }

    func testQuotasStayUnmeasuredAndUnenforcedAndAggregatedRolesStayEmpty() throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl(["create", "namespace", "quoted"]))
        expectSuccess(try cluster.kubectl(["create", "quota", "maps", "--hard=count/configmaps=1", "-n", "quoted"]))
        // Upstream's admission matches quotas on `status.hard`, which only the controller writes.
        expectSuccess(try cluster.kubectl(["create", "configmap", "one", "-n", "quoted"]))
        expectSuccess(try cluster.kubectl(["create", "configmap", "two", "-n", "quoted"]))
        let status = try cluster.kubectl(["get", "quota", "maps", "-n", "quoted", "-o", "jsonpath={.status}"])
        XCTAssertEqual(expectSuccess(status), "")
        let rules = try cluster.kubectl(["get", "clusterrole", "view", "-o", "jsonpath={.rules}"])
        XCTAssertEqual(expectSuccess(rules), "")
    }
}

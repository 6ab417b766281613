import Foundation
import TestSupport
import XCTest

/// The clusterrole-aggregation controller in a real kube-controller-manager beside a real API server (which no
/// longer aggregates): the bootstrap `view` role fills, and follows a labelled role as it comes and goes.
final class ClusterRoleAggregationEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.138" }
    override class var controllers: [String]? { ["clusterrole-aggregation"] }

    func testAggregatedRolesHoldTheRulesOfTheRolesTheySelect() throws {
        let cluster = try cluster
        XCTAssertNotNil(poll { try self.viewRules(cluster).contains("\"pods\"") ? true : nil }, "view was not filled")
        let widgets = """
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": {"name": "widget-viewer", "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
             "rules": [{"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get", "list"]}]}
            """
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: widgets))
        XCTAssertNotNil(
            poll { try self.viewRules(cluster).contains("\"widgets\"") ? true : nil }, "view did not take widgets in")
        expectSuccess(try cluster.kubectl(["delete", "clusterrole", "widget-viewer"]))
        XCTAssertNotNil(
            poll { try self.viewRules(cluster).contains("\"widgets\"") ? nil : true }, "view kept the deleted rules")
        XCTAssertTrue(try viewRules(cluster).contains("\"pods\""))
    }

    private func viewRules(_ cluster: TestCluster) throws -> String {
        expectSuccess(try cluster.kubectl(["get", "clusterrole", "view", "-o", "jsonpath={.rules}"]))
    }

    /// Polls `body` every 50 ms for up to 10 s until it returns a value.
    private func poll<T>(_ body: () throws -> T?) -> T? {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let value = try? body() { return value }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return nil
    }
}

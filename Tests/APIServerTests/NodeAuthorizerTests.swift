import APIMachinery
import Authorization
import XCTest

/// The node authorizer's decisions, as upstream's node_authorizer_test table: graph-gated reads, own
/// lease only, everything else by the `system:node` rules, and no opinion for anyone not a node.
final class NodeAuthorizerTests: XCTestCase {
    static func node(_ name: String) -> UserInfo {
        UserInfo(name: "system:node:" + name, groups: ["system:nodes", "system:authenticated"])
    }

    /// Node "a" runs pod ns/p1 naming secret s1, config map c1, claim pvc1 (bound to pv1) and account sa1;
    /// node "b" runs ns/p2 naming secret x.
    static func graph() -> NodeGraph {
        var graph = NodeGraph()
        graph.put(pod: [
            "metadata": ["name": "p1", "namespace": "ns"],
            "spec": [
                "nodeName": "a", "serviceAccountName": "sa1",
                "volumes": [
                    ["name": "v1", "secret": ["secretName": "s1"]],
                    ["name": "v2", "persistentVolumeClaim": ["claimName": "pvc1"]],
                ],
                "containers": [["name": "c", "envFrom": [["configMapRef": ["name": "c1"]]]]],
            ],
        ])
        graph.put(pod: [
            "metadata": ["name": "p2", "namespace": "ns"],
            "spec": ["nodeName": "b", "imagePullSecrets": [["name": "x"]], "containers": [["name": "c"]]],
        ])
        graph.put(pod: [
            "metadata": ["name": "unbound", "namespace": "ns"],
            "spec": [
                "volumes": [["name": "v", "secret": ["secretName": "s-unbound"]]], "containers": [["name": "c"]],
            ],
        ])
        graph.put(claim: ["metadata": ["name": "pvc1", "namespace": "ns"], "spec": ["volumeName": "pv1"]])
        return graph
    }

    func testDecisionTable() {
        let graph = Self.graph()
        let authorizer = NodeAuthorizer(graph: { graph })
        let a = Self.node("a")
        typealias Row = (Attributes, Bool, String)
        let rows: [Row] = [
            (Attributes(user: a, verb: "get", resource: "secrets", namespace: "ns", name: "s1"), true, ""),
            (
                Attributes(user: a, verb: "get", resource: "secrets", namespace: "ns", name: "x"), false,
                "no relationship found between node 'a' and this object"
            ),
            (
                Attributes(user: a, verb: "get", resource: "secrets", namespace: "ns", name: "s-unbound"), false,
                "no relationship found between node 'a' and this object"
            ),
            (Attributes(user: a, verb: "watch", resource: "configmaps", namespace: "ns", name: "c1"), true, ""),
            (
                Attributes(user: a, verb: "list", resource: "secrets", namespace: "ns"), false,
                "No Object name found"
            ),
            (
                Attributes(user: a, verb: "update", resource: "secrets", namespace: "ns", name: "s1"), false,
                "can only read resources of this type"
            ),
            (
                Attributes(user: a, verb: "get", resource: "secrets", name: "s1"), false,
                "can only read namespaced object of this type"
            ),
            (
                Attributes(user: a, verb: "get", resource: "persistentvolumeclaims", namespace: "ns", name: "pvc1"),
                true, ""
            ),
            (
                Attributes(user: a, verb: "list", resource: "persistentvolumeclaims", namespace: "ns"), false,
                "can only get individual resources of this type"
            ),
            (Attributes(user: a, verb: "get", resource: "persistentvolumes", name: "pv1"), true, ""),
            (
                Attributes(user: Self.node("b"), verb: "get", resource: "persistentvolumes", name: "pv1"), false,
                "no relationship found between node 'b' and this object"
            ),
            (
                Attributes(
                    user: a, verb: "create", resource: "serviceaccounts", subresource: "token", namespace: "ns",
                    name: "sa1"), true, ""
            ),
            (
                Attributes(user: a, verb: "get", resource: "serviceaccounts", namespace: "ns", name: "sa1"), false,
                "can only create tokens for individual service accounts"
            ),
            (
                Attributes(
                    user: a, verb: "update", apiGroup: "coordination.k8s.io", resource: "leases",
                    namespace: "kube-node-lease", name: "a"), true, ""
            ),
            (
                Attributes(
                    user: a, verb: "update", apiGroup: "coordination.k8s.io", resource: "leases",
                    namespace: "kube-node-lease", name: "b"), false,
                "can only access node lease with the same name as the requesting node"
            ),
            (
                Attributes(
                    user: a, verb: "get", apiGroup: "coordination.k8s.io", resource: "leases", namespace: "default",
                    name: "a"), false, "can only access leases in the kube-node-lease namespace"
            ),
            (
                Attributes(
                    user: a, verb: "list", apiGroup: "coordination.k8s.io", resource: "leases",
                    namespace: "kube-node-lease"), false, "can only get, create, update, patch, or delete a node lease"
            ),
            // The system:node rules decide the rest; NodeRestriction narrows the writes.
            (Attributes(user: a, verb: "patch", resource: "nodes", subresource: "status", name: "a"), true, ""),
            (Attributes(user: a, verb: "list", resource: "pods"), true, ""),
            (Attributes(user: a, verb: "create", resource: "events", namespace: "ns"), true, ""),
            (Attributes(user: a, verb: "delete", resource: "nodes", name: "a"), false, ""),
            (Attributes(user: a, verb: "list", apiGroup: "apps", resource: "deployments"), false, ""),
        ]
        for (attributes, allowed, reason) in rows {
            let decision = authorizer.authorize(attributes)
            let label = "\(attributes.verb) \(attributes.resource) \(attributes.name)"
            XCTAssertEqual(decision.isAllowed, allowed, label)
            XCTAssertEqual(decision.reason, reason, label)
            if !allowed { XCTAssertEqual(decision, .noOpinion(reason: reason), "\(label): never a deny") }
        }
    }

    func testOnlyNodeIdentitiesAreJudged() {
        let graph = Self.graph()
        let authorizer = NodeAuthorizer(graph: { graph })
        let notInGroup = UserInfo(name: "system:node:a", groups: ["system:authenticated"])
        let admin = UserInfo(name: "admin", groups: ["system:masters"])
        for user in [notInGroup, admin] {
            let attributes = Attributes(user: user, verb: "get", resource: "secrets", namespace: "ns", name: "s1")
            XCTAssertEqual(authorizer.authorize(attributes), .noOpinion(reason: ""))
        }
        let unnamed = UserInfo(name: "system:node:", groups: ["system:nodes"])
        XCTAssertEqual(
            authorizer.authorize(Attributes(user: unnamed, verb: "get", resource: "pods")),
            .noOpinion(reason: "unknown node"))
    }

    func testDeletingAPodOrMovingItCutsTheLinks() {
        var graph = Self.graph()
        XCTAssertTrue(graph.hasPath(from: "a", to: .init(.secret, namespace: "ns", name: "s1")))
        graph.put(pod: [
            "metadata": ["name": "p1", "namespace": "ns"],
            "spec": ["nodeName": "b", "volumes": [["name": "v1", "secret": ["secretName": "s1"]]]],
        ])
        XCTAssertFalse(graph.hasPath(from: "a", to: .init(.secret, namespace: "ns", name: "s1")))
        XCTAssertTrue(graph.hasPath(from: "b", to: .init(.secret, namespace: "ns", name: "s1")))
        XCTAssertFalse(graph.hasPath(from: "a", to: .init(.persistentVolume, namespace: "", name: "pv1")))
        graph.removePod(namespace: "ns", name: "p1")
        XCTAssertFalse(graph.hasPath(from: "b", to: .init(.secret, namespace: "ns", name: "s1")))
        XCTAssertTrue(graph.hasPath(from: "b", to: .init(.secret, namespace: "ns", name: "x")))
    }
}

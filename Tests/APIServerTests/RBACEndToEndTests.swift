import TestSupport
import Foundation
import XCTest

/// `--authorization-mode=RBAC` with the guide's token.csv, driven by /usr/bin/kubectl: token users start with
/// nothing but the bootstrap policy, the admin (client certificate, O=system:masters) may do everything, and
/// escalation prevention refuses grants the granter does not hold, all with upstream's messages.
final class RBACEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.63" }
    override class var extraFlags: [String] { ["--authorization-mode=Node,RBAC", "--token-auth-file=@token.csv"] }
    override class func prepare(directory: URL) throws {
        try """
        # token,user,uid,"groups"
        jane-token,jane,2001
        bob-token,bob,2002,"developers,qa"
        carol-token,carol,2003
        """.write(to: directory.appendingPathComponent("token.csv"), atomically: true, encoding: .utf8)
    }

    /// Runs kubectl as a token user, without the admin kubeconfig.
    func kubectl(token: String, _ arguments: [String]) throws -> TestCluster.Output {
        let cluster = try cluster
        return try TestCluster.run(
            TestCluster.kubectlPath,
            [
                "--server=https://\(cluster.address):\(cluster.port)",
                "--certificate-authority=\(cluster.directory.path)/pki/ca.pem", "--token=\(token)",
            ] + arguments)
    }

    func kubectl(token: String, _ line: String) throws -> TestCluster.Output {
        try kubectl(token: token, line.split(separator: " ").map(String.init))
    }

    /// The policy cache follows storage by watch; give a just-written binding a moment to arrive.
    func eventually(_ line: String, token: String, prints expected: String) throws {
        var last = ""
        for _ in 0..<50 {
            last = try kubectl(token: token, line).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if last == expected { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTFail("`kubectl \(line)` printed \(last), expected \(expected)")
    }

    func testTokenUserIsForbiddenUntilARoleBindingGrantsAccess() throws {
        let cluster = try cluster
        expectFailure(
            try kubectl(token: "jane-token", "get pods -n default"),
            #"Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default""#
        )
        let cannot = try kubectl(token: "jane-token", "auth can-i list pods -n default")
        XCTAssertEqual(cannot.stdout, "no\n")
        XCTAssertEqual(cannot.status, 1)
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl("create rolebinding jane-view --clusterrole=view --user=jane -n default")),
            "rolebinding.rbac.authorization.k8s.io/jane-view created\n")
        try eventually("auth can-i list pods -n default", token: "jane-token", prints: "yes")
        let pods = try kubectl(token: "jane-token", "get pods -n default")
        XCTAssertEqual(pods.status, 0, pods.stderr)
        XCTAssertEqual(pods.stderr, "No resources found in default namespace.\n")
        // The binding is namespaced: elsewhere, and for writes, jane is still refused.
        XCTAssertEqual(try kubectl(token: "jane-token", "auth can-i list pods -n kube-system").stdout, "no\n")
        expectFailure(
            try kubectl(token: "jane-token", "create configmap c -n default"),
            #"error: failed to create configmap: configmaps is forbidden: User "jane" cannot create resource "configmaps" in API group "" in the namespace "default""#
        )
        expectFailure(
            try kubectl(token: "jane-token", "get namespace kube-system"),
            #"Error from server (Forbidden): namespaces "kube-system" is forbidden: User "jane" cannot get resource "namespaces" in API group "" in the namespace "kube-system""#
        )
    }

    func testBindingClusterAdminWithOnlyCreateRoleBindingsIsRefused() throws {
        let cluster = try cluster
        expectSuccess(
            try cluster.kubectl(
                "create role binder --verb=create --resource=rolebindings.rbac.authorization.k8s.io -n default"))
        expectSuccess(try cluster.kubectl("create rolebinding bob-binder --role=binder --user=bob -n default"))
        try eventually("auth can-i create rolebindings -n default", token: "bob-token", prints: "yes")
        expectFailure(
            try kubectl(
                token: "bob-token", "create rolebinding takeover --clusterrole=cluster-admin --user=bob -n default"),
            """
            error: failed to create rolebinding: rolebindings.rbac.authorization.k8s.io "takeover" is forbidden: user "bob" \
            (groups=["developers" "qa" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:
            {APIGroups:["*"], Resources:["*"], Verbs:["*"]}
            {NonResourceURLs:["*"], Verbs:["*"]}
            """)
        expectFailure(
            try cluster.kubectl("get rolebinding takeover -n default"),
            #"Error from server (NotFound): rolebindings.rbac.authorization.k8s.io "takeover" not found"#)
        // Granting what bob holds (nothing but create on rolebindings) to someone else is allowed.
        expectSuccess(
            try kubectl(token: "bob-token", "create rolebinding share --role=binder --user=carol -n default"))
    }

    func testAdminCanDoEverythingAndAggregatedRolesAreFilledIn() throws {
        let cluster = try cluster
        XCTAssertEqual(expectSuccess(try cluster.kubectl(["auth", "can-i", "*", "*"])), "yes\n")
        XCTAssertEqual(expectSuccess(try cluster.kubectl("auth can-i delete nodes")), "yes\n")
        let rules = expectSuccess(
            try cluster.kubectl(["get", "clusterrole", "view", "-o", "jsonpath={.rules[*].resources}"]))
        XCTAssertTrue(rules.contains("pods"), rules)
        let admin = expectSuccess(
            try cluster.kubectl(["get", "clusterrole", "admin", "-o", "jsonpath={.rules[*].resources}"]))
        XCTAssertTrue(admin.contains("rolebindings") && admin.contains("secrets"), admin)
        // A new role labelled for aggregation joins `view` (and, through `edit`, `admin`).
        expectSuccess(
            try cluster.kubectl(
                ["create", "-f", "-"],
                input: """
                    apiVersion: rbac.authorization.k8s.io/v1
                    kind: ClusterRole
                    metadata: {name: widgets-view, labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}}
                    rules: [{apiGroups: [example.com], resources: [widgets], verbs: [get]}]
                    """))
        var found = false
        for _ in 0..<50 where !found {
            found = try cluster.kubectl(["get", "clusterrole", "admin", "-o", "jsonpath={.rules[*].resources}"]).stdout
                .contains("widgets")
            if !found { Thread.sleep(forTimeInterval: 0.05) }
        }
        XCTAssertTrue(found, "admin did not aggregate widgets")
    }

    func testCanIListShowsTheBootstrapRules() throws {
        let listed = try kubectl(token: "carol-token", "auth can-i --list -n default")
        XCTAssertEqual(listed.status, 0, listed.stderr)
        let lines = listed.stdout.split(separator: "\n").map {
            $0.split(separator: " ", omittingEmptySubsequences: true)
        }
        XCTAssertTrue(
            lines.contains(["selfsubjectaccessreviews.authorization.k8s.io", "[]", "[]", "[create]"]), listed.stdout)
        XCTAssertTrue(lines.contains(["[/api/*]", "[]", "[get]"]), listed.stdout)
        XCTAssertTrue(lines.contains(["[/healthz]", "[]", "[get]"]), listed.stdout)
    }

    func testSubjectAccessReviewAndAnonymousAccess() throws {
        let cluster = try cluster
        let review = try cluster.kubectl(
            ["create", "--validate=false", "-f", "-", "-o", "jsonpath={.status.allowed} {.status.reason}"],
            input: """
                apiVersion: authorization.k8s.io/v1
                kind: SubjectAccessReview
                spec: {user: someone, groups: [system:masters], resourceAttributes: {verb: get, resource: secrets}}
                """)
        XCTAssertEqual(review.stdout, "true ", review.stderr)
        let denied = try cluster.kubectl(
            ["create", "--validate=false", "-f", "-", "-o", "jsonpath={.status.allowed}"],
            input: """
                apiVersion: authorization.k8s.io/v1
                kind: SubjectAccessReview
                spec: {user: someone, nonResourceAttributes: {verb: get, path: /metrics}}
                """)
        XCTAssertEqual(denied.stdout, "false", denied.stderr)
        let invalid = try cluster.kubectl(
            ["create", "--validate=false", "-f", "-"],
            input: "apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec: {user: someone}\n")
        XCTAssertTrue(
            invalid.stderr.contains(
                #"The SubjectAccessReview "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified"#
            ), invalid.stderr)

        let pki = cluster.directory.appendingPathComponent("pki/ca.pem").path
        let base = "https://\(cluster.address):\(cluster.port)"
        let version = try TestCluster.run("/usr/bin/curl", ["-s", "--cacert", pki, base + "/version"])
        XCTAssertTrue(version.stdout.contains("gitVersion"), version.stdout)
        let api = try TestCluster.run("/usr/bin/curl", ["-s", "--cacert", pki, base + "/api/v1/namespaces"])
        XCTAssertTrue(
            api.stdout.contains(
                #""message":"namespaces is forbidden: User \"system:anonymous\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope""#
            ), api.stdout)
    }
}

import APIMachinery
import Authorization
import XCTest

final class RBACAuthorizerTests: XCTestCase {
    let jane = UserInfo(name: "jane", groups: ["devs", "system:authenticated"])
    let robot = UserInfo(
        name: "system:serviceaccount:ci:builder",
        groups: ["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"])

    let podReader = Role(
        name: "pod-reader", rules: [PolicyRule(verbs: ["get", "list"], apiGroups: [""], resources: ["pods"])])

    func authorizer(_ snapshot: RBACSnapshot) -> RBACAuthorizer { RBACAuthorizer(snapshot: { snapshot }) }

    func listPods(_ user: UserInfo, in namespace: String) -> Attributes {
        Attributes(user: user, verb: "list", resource: "pods", namespace: namespace)
    }

    func testSubjectsMatchUsersGroupsAndServiceAccounts() {
        let ref = RoleRef(kind: "ClusterRole", name: "pod-reader")
        let snapshot = RBACSnapshot(
            clusterRoles: [podReader],
            roleBindings: [
                RoleBinding(
                    namespace: "team", name: "by-group", roleRef: ref, subjects: [Subject(kind: "Group", name: "devs")]),
                // A ServiceAccount subject without a namespace means the binding's own namespace.
                RoleBinding(
                    namespace: "ci", name: "by-sa", roleRef: ref,
                    subjects: [Subject(kind: "ServiceAccount", name: "builder")]),
            ])
        let rbac = authorizer(snapshot)
        XCTAssertEqual(
            rbac.authorize(listPods(jane, in: "team")),
            .allow(reason: #"RBAC: allowed by RoleBinding "by-group/team" of ClusterRole "pod-reader" to Group "devs""#)
        )
        XCTAssertEqual(rbac.authorize(listPods(jane, in: "other")), .noOpinion(reason: ""))
        XCTAssertEqual(rbac.authorize(listPods(jane, in: "")), .noOpinion(reason: ""))
        XCTAssertEqual(
            rbac.authorize(listPods(robot, in: "ci")),
            .allow(
                reason:
                    #"RBAC: allowed by RoleBinding "by-sa/ci" of ClusterRole "pod-reader" to ServiceAccount "builder/ci""#
            ))
        XCTAssertFalse(rbac.authorize(listPods(robot, in: "team")).isAllowed)
        XCTAssertFalse(
            rbac.authorize(listPods(UserInfo(name: "system:serviceaccount:ci:builder2", groups: []), in: "ci"))
                .isAllowed)
    }

    func testClusterRoleBindingsApplyEverywhereAndRolesOnlyInTheirNamespace() {
        let snapshot = RBACSnapshot(
            roles: [Role(namespace: "team", name: "local", rules: podReader.rules)],
            clusterRoles: [podReader],
            roleBindings: [
                RoleBinding(
                    namespace: "team", name: "local", roleRef: RoleRef(kind: "Role", name: "local"),
                    subjects: [Subject(kind: "User", name: "jane")])
            ],
            clusterRoleBindings: [
                RoleBinding(
                    name: "readers", roleRef: RoleRef(kind: "ClusterRole", name: "pod-reader"),
                    subjects: [Subject(kind: "ServiceAccount", name: "builder", namespace: "ci")])
            ])
        let rbac = authorizer(snapshot)
        XCTAssertTrue(rbac.authorize(listPods(jane, in: "team")).isAllowed)
        XCTAssertFalse(rbac.authorize(listPods(jane, in: "")).isAllowed)
        XCTAssertTrue(rbac.authorize(listPods(robot, in: "")).isAllowed)
        XCTAssertTrue(rbac.authorize(listPods(robot, in: "anywhere")).isAllowed)
        XCTAssertEqual(
            rbac.authorize(listPods(robot, in: "x")).reason,
            #"RBAC: allowed by ClusterRoleBinding "readers" of ClusterRole "pod-reader" to ServiceAccount "builder/ci""#
        )
    }

    func testMissingRolesAreReportedButDoNotHideOtherRules() {
        let snapshot = RBACSnapshot(
            clusterRoles: [podReader],
            roleBindings: [
                RoleBinding(
                    namespace: "team", name: "dangling", roleRef: RoleRef(kind: "Role", name: "gone"),
                    subjects: [Subject(kind: "User", name: "jane")])
            ],
            clusterRoleBindings: [
                RoleBinding(
                    name: "dangling", roleRef: RoleRef(kind: "ClusterRole", name: "gone"),
                    subjects: [Subject(kind: "User", name: "jane")])
            ])
        let rbac = authorizer(snapshot)
        XCTAssertEqual(
            rbac.authorize(listPods(jane, in: "team")),
            .noOpinion(
                reason:
                    #"RBAC: [clusterrole.rbac.authorization.k8s.io "gone" not found, role.rbac.authorization.k8s.io "gone" not found]"#
            ))
        let review = rbac.rules(for: jane, namespace: "team")
        XCTAssertEqual(review.resourceRules, [])
        XCTAssertEqual(review.evaluationErrors.count, 1)
    }

    func testUnionOrderAndReasons() {
        let deny = AlwaysDeny()
        let union = UnionAuthorizer([PrivilegedGroups(), deny, authorizer(RBACSnapshot())])
        let attributes = listPods(jane, in: "x")
        XCTAssertEqual(union.authorize(attributes), .noOpinion(reason: "Everything is forbidden."))
        let admin = UserInfo(name: "admin", groups: ["system:masters"])
        XCTAssertTrue(union.authorize(listPods(admin, in: "x")).isAllowed)
        XCTAssertTrue(UnionAuthorizer([deny, AlwaysAllow()]).authorize(attributes).isAllowed)
    }

    func testRulesReviewSplitsResourceAndNonResourceRules() {
        let role = Role(
            name: "mixed",
            rules: [
                PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods"], resourceNames: ["a"]),
                PolicyRule(verbs: ["get"], nonResourceURLs: ["/healthz"]),
            ])
        let snapshot = RBACSnapshot(
            clusterRoles: [role],
            clusterRoleBindings: [
                RoleBinding(
                    name: "mixed", roleRef: RoleRef(kind: "ClusterRole", name: "mixed"),
                    subjects: [Subject(kind: "Group", name: "system:authenticated")])
            ])
        let review = authorizer(snapshot).rules(for: jane, namespace: "default")
        XCTAssertEqual(review.resourceRules, [role.rules[0]])
        XCTAssertEqual(review.nonResourceRules, [role.rules[1]])
        XCTAssertFalse(review.incomplete)
    }

    func testAggregationGathersMatchingRolesInNameOrderWithoutRepeats() {
        let selector = try? LabelSelector(object: ["matchLabels": ["agg": "yes"]])
        let aggregate = Role(name: "all", rules: [], aggregationSelectors: selector.map { [$0] })
        let first = Role(
            name: "a-role", labels: ["agg": "yes"],
            rules: [PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods"])])
        let second = Role(
            name: "b-role", labels: ["agg": "yes"],
            rules: [
                PolicyRule(verbs: ["list"], apiGroups: [""], resources: ["pods"]),
                PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods"]),
            ])
        let unrelated = Role(name: "c-role", rules: [PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"])])
        let snapshot = RBACSnapshot(clusterRoles: [second, unrelated, aggregate, first])
        XCTAssertEqual(
            snapshot.aggregatedRules(for: aggregate),
            [
                PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods"]),
                PolicyRule(verbs: ["list"], apiGroups: [""], resources: ["pods"]),
            ])
        XCTAssertNil(snapshot.aggregatedRules(for: first))
        XCTAssertEqual(snapshot.staleAggregations().map(\.name), ["all"])
    }

    func testForbiddenMessagesMatchUpstream() {
        let cases: [(Attributes, String)] = [
            (
                listPods(jane, in: "y"),
                #"pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "y""#
            ),
            (
                Attributes(user: jane, verb: "list", apiGroup: "apps", resource: "deployments"),
                #"deployments.apps is forbidden: User "jane" cannot list resource "deployments" in API group "apps" at the cluster scope"#
            ),
            (
                Attributes(user: jane, verb: "get", resource: "pods", subresource: "log", namespace: "y", name: "p"),
                #"pods "p" is forbidden: User "jane" cannot get resource "pods/log" in API group "" in the namespace "y""#
            ),
            (
                Attributes(user: jane, verb: "get", path: "/metrics<b>"),
                #"forbidden: User "jane" cannot get path "/metrics&lt;b&gt;""#
            ),
        ]
        for (attributes, message) in cases {
            XCTAssertEqual(Forbidden.error(attributes, reason: "").message, message)
            XCTAssertEqual(Forbidden.error(attributes, reason: "").code, 403)
        }
        let error = Forbidden.error(
            Attributes(user: jane, verb: "get", apiGroup: "apps", resource: "deployments", namespace: "y", name: "d"),
            reason: "Everything is forbidden.")
        XCTAssertTrue(error.message.hasSuffix(#"in the namespace "y": Everything is forbidden."#), error.message)
        XCTAssertEqual(error.details, ["name": "d", "group": "apps", "kind": "deployments"])
    }
}

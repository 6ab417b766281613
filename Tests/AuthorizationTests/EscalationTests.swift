import APIMachinery
import Authorization
import XCTest

final class EscalationTests: XCTestCase {
    let bob = UserInfo(name: "bob", groups: ["system:authenticated"])
    let admin = UserInfo(name: "admin", groups: ["system:masters", "system:authenticated"])

    /// Bob may read pods and create role bindings in "team", nothing else.
    var snapshot: RBACSnapshot {
        RBACSnapshot(
            roles: [
                Role(
                    namespace: "team", name: "binder",
                    rules: [
                        PolicyRule(
                            verbs: ["create"], apiGroups: ["rbac.authorization.k8s.io"], resources: ["rolebindings"]),
                        PolicyRule(verbs: ["get", "list"], apiGroups: [""], resources: ["pods"]),
                    ])
            ],
            clusterRoles: BootstrapPolicy.clusterRoles.map(Role.init(json:)),
            roleBindings: [
                RoleBinding(
                    namespace: "team", name: "bob", roleRef: RoleRef(kind: "Role", name: "binder"),
                    subjects: [Subject(kind: "User", name: "bob")])
            ])
    }

    func check(_ snapshot: RBACSnapshot) -> EscalationCheck {
        EscalationCheck(
            snapshot: snapshot, authorizer: UnionAuthorizer([PrivilegedGroups(), RBACAuthorizer { snapshot }]))
    }

    func binding(to role: String, kind: String = "ClusterRole", namespace: String = "team") -> RoleBinding {
        RoleBinding(
            namespace: namespace, name: "grant", roleRef: RoleRef(kind: kind, name: role),
            subjects: [Subject(kind: "User", name: "bob")])
    }

    func testBindingClusterAdminIsRefusedWithUpstreamsText() {
        let error = check(snapshot).checkBinding(user: bob, binding: binding(to: "cluster-admin"))
        XCTAssertEqual(error?.code, 403)
        XCTAssertEqual(
            error?.message,
            """
            rolebindings.rbac.authorization.k8s.io "grant" is forbidden: user "bob" (groups=["system:authenticated"]) is \
            attempting to grant RBAC permissions not currently held:
            {APIGroups:["*"], Resources:["*"], Verbs:["*"]}
            {NonResourceURLs:["*"], Verbs:["*"]}
            """)
        XCTAssertEqual(error?.details, ["name": "grant", "group": "rbac.authorization.k8s.io", "kind": "rolebindings"])
        XCTAssertNil(check(snapshot).checkBinding(user: admin, binding: binding(to: "cluster-admin")))
        XCTAssertNil(check(snapshot).checkBinding(user: nil, binding: binding(to: "cluster-admin")))
    }

    func testBindingWhatYouHoldOrWithTheBindVerbIsAllowed() {
        var policy = snapshot
        policy.put(
            role: Role(
                namespace: "team", name: "reader",
                rules: [PolicyRule(verbs: ["list"], apiGroups: [""], resources: ["pods"])]))
        XCTAssertNil(check(policy).checkBinding(user: bob, binding: binding(to: "reader", kind: "Role")))
        XCTAssertNotNil(check(policy).checkBinding(user: bob, binding: binding(to: "system:aggregate-to-edit")))
        policy.put(
            role: Role(
                namespace: "team", name: "may-bind-edit",
                rules: [
                    PolicyRule(
                        verbs: ["bind"], apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"],
                        resourceNames: ["system:aggregate-to-edit"])
                ]))
        policy.put(
            roleBinding: RoleBinding(
                namespace: "team", name: "bob-binds", roleRef: RoleRef(kind: "Role", name: "may-bind-edit"),
                subjects: [Subject(kind: "User", name: "bob")]))
        XCTAssertNil(check(policy).checkBinding(user: bob, binding: binding(to: "system:aggregate-to-edit")))
        XCTAssertNotNil(check(policy).checkBinding(user: bob, binding: binding(to: "cluster-admin")))
    }

    func testBindingAMissingRoleIsForbiddenWithTheLookupError() {
        XCTAssertEqual(
            check(snapshot).checkBinding(user: bob, binding: binding(to: "nope", namespace: ""))?.message,
            #"clusterrolebindings.rbac.authorization.k8s.io "grant" is forbidden: clusterrole.rbac.authorization.k8s.io "nope" not found"#
        )
    }

    func testRolesNeedTheirRulesOrEscalate() {
        let within = Role(
            namespace: "team", name: "r", rules: [PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods"])])
        XCTAssertNil(check(snapshot).checkRole(user: bob, namespace: "team", role: within))
        let beyond = Role(
            namespace: "team", name: "r",
            rules: [PolicyRule(verbs: ["get", "delete", "watch"], apiGroups: [""], resources: ["pods", "secrets"])])
        XCTAssertEqual(
            check(snapshot).checkRole(user: bob, namespace: "team", role: beyond)?.message,
            """
            roles.rbac.authorization.k8s.io "r" is forbidden: user "bob" (groups=["system:authenticated"]) is attempting \
            to grant RBAC permissions not currently held:
            {APIGroups:[""], Resources:["pods"], Verbs:["delete" "watch"]}
            {APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete" "watch"]}
            """)
        var policy = snapshot
        policy.put(
            role: Role(
                namespace: "team", name: "escalator",
                rules: [PolicyRule(verbs: ["escalate"], apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"])]
            ))
        policy.put(
            roleBinding: RoleBinding(
                namespace: "team", name: "bob-escalates", roleRef: RoleRef(kind: "Role", name: "escalator"),
                subjects: [Subject(kind: "User", name: "bob")]))
        XCTAssertNil(check(policy).checkRole(user: bob, namespace: "team", role: beyond))
    }

    func testAggregationRulesNeedFullAuthority() {
        var policy = snapshot
        policy.put(
            clusterRoleBinding: RoleBinding(
                name: "bob-view", roleRef: RoleRef(kind: "ClusterRole", name: "view"),
                subjects: [Subject(kind: "User", name: "bob")]))
        let aggregated = Role(json: BootstrapPolicy.clusterRoles.first { $0.name == "view" } ?? .null)
        XCTAssertTrue(aggregated.isAggregated)
        XCTAssertEqual(
            check(policy).checkClusterRole(
                user: bob, role: Role(name: "mine", rules: [], aggregationSelectors: aggregated.aggregationSelectors),
                old: nil)?
                .message,
            #"clusterroles.rbac.authorization.k8s.io "mine" is forbidden: must have cluster-admin privileges to use the aggregationRule"#
        )
        XCTAssertNil(check(policy).checkClusterRole(user: bob, role: Role(name: "mine", rules: []), old: nil))
        XCTAssertNil(
            check(policy).checkClusterRole(
                user: admin, role: Role(name: "mine", rules: [], aggregationSelectors: aggregated.aggregationSelectors),
                old: nil))
    }
}

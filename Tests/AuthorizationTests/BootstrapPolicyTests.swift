import APIMachinery
import Authorization
import XCTest

/// Facts taken from upstream's bootstrappolicy testdata (cluster-roles.yaml, cluster-role-bindings.yaml,
/// namespace-roles.yaml, namespace-role-bindings.yaml).
final class BootstrapPolicyTests: XCTestCase {
    func role(_ name: String) -> Role? {
        BootstrapPolicy.clusterRoles.first { $0.name == name }.map(Role.init(json:))
    }

    func testEveryObjectCarriesTheBootstrapLabelAndAutoupdateAnnotation() {
        let all =
            BootstrapPolicy.clusterRoles + BootstrapPolicy.clusterRoleBindings + BootstrapPolicy.roles
            + BootstrapPolicy.roleBindings
        // The components' roles and bindings, then one role and one binding per controller service account.
        XCTAssertEqual(all.count, 31 + 12 + 7 + 7 + 2 * 31)
        for object in all {
            XCTAssertEqual(object.labels["kubernetes.io/bootstrapping"], "rbac-defaults", object.name ?? "")
            XCTAssertEqual(object.annotations["rbac.authorization.kubernetes.io/autoupdate"], "true", object.name ?? "")
            XCTAssertEqual(object.apiVersion, "rbac.authorization.k8s.io/v1")
        }
    }

    func testEachControllerRoleIsBoundToItsKubeSystemServiceAccount() {
        let bindings = BootstrapPolicy.clusterRoleBindings.map(RoleBinding.init(json:))
        let controllerRoles = BootstrapPolicy.clusterRoles.compactMap(\.name).filter {
            $0.hasPrefix("system:controller:")
        }
        XCTAssertEqual(controllerRoles.count, 31)
        for name in controllerRoles {
            let binding = bindings.first { $0.name == name }
            XCTAssertEqual(binding?.roleRef.name, name)
            XCTAssertEqual(binding?.subjects.first?.kind, "ServiceAccount", name)
            XCTAssertEqual(binding?.subjects.first?.namespace, "kube-system", name)
            XCTAssertEqual(binding?.subjects.first?.name, String(name.dropFirst("system:controller:".count)))
        }
        let replicaSet = role("system:controller:replicaset-controller")?.rules ?? []
        XCTAssertTrue(replicaSet.contains { $0.verbs.contains("create") && $0.resources == ["pods"] })
        XCTAssertFalse(
            replicaSet.contains { $0.resources.contains("secrets") }, "a controller gets only what it writes")
    }

    func testClusterRoleNamesAndKeyRules() {
        let names = BootstrapPolicy.clusterRoles.compactMap(\.name)
        for expected in [
            "admin", "cluster-admin", "edit", "view", "system:basic-user", "system:discovery",
            "system:public-info-viewer", "system:kube-scheduler", "system:kube-controller-manager", "system:node",
            "system:node-bootstrapper", "system:node-proxier", "system:monitoring",
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            "system:certificates.k8s.io:kube-apiserver-client-approver",
            "system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
            "system:certificates.k8s.io:kubelet-serving-approver", "system:certificates.k8s.io:legacy-unknown-approver",
        ] {
            XCTAssertTrue(names.contains(expected), expected)
        }
        XCTAssertEqual(names, names.sorted())
        XCTAssertEqual(
            role("cluster-admin")?.rules,
            [
                PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"]),
                PolicyRule(verbs: ["*"], nonResourceURLs: ["*"]),
            ])
        XCTAssertEqual(
            role("system:basic-user")?.rules,
            [
                PolicyRule(
                    verbs: ["create"], apiGroups: ["authorization.k8s.io"],
                    resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
                PolicyRule(verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"]),
            ])
        XCTAssertEqual(
            role("system:public-info-viewer")?.rules,
            [PolicyRule(verbs: ["get"], nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"])])
        XCTAssertEqual(
            role("system:node-proxier")?.rules.first,
            PolicyRule(verbs: ["list", "watch"], apiGroups: [""], resources: ["endpoints", "services"]))
        XCTAssertEqual(
            role("system:certificates.k8s.io:kubelet-serving-approver")?.rules,
            [
                PolicyRule(
                    verbs: ["approve"], apiGroups: ["certificates.k8s.io"], resources: ["signers"],
                    resourceNames: ["kubernetes.io/kubelet-serving"])
            ])
        XCTAssertEqual(role("system:kube-scheduler")?.rules.count, 26)
        XCTAssertEqual(role("system:node")?.rules.count, 25)
        XCTAssertEqual(role("system:kube-controller-manager")?.rules.count, 11)
    }

    func testAggregatedRolesChainAdminEditView() {
        XCTAssertEqual(role("admin")?.isAggregated, true)
        XCTAssertEqual(role("edit")?.labels["rbac.authorization.k8s.io/aggregate-to-admin"], "true")
        XCTAssertEqual(role("view")?.labels["rbac.authorization.k8s.io/aggregate-to-edit"], "true")
        let snapshot = RBACSnapshot(clusterRoles: BootstrapPolicy.clusterRoles.map(Role.init(json:)))
        let view = snapshot.aggregatedRules(for: snapshot.clusterRoles["view"] ?? Role(name: "", rules: [])) ?? []
        XCTAssertEqual(view, role("system:aggregate-to-view")?.rules)
        XCTAssertEqual(
            Set(snapshot.staleAggregations().map(\.name)), ["admin", "edit", "view"],
            "aggregated roles start empty and get their rules from the server")
    }

    func testBindings() {
        func subjects(_ name: String) -> [Subject] {
            (BootstrapPolicy.clusterRoleBindings.first { $0.name == name }).map { RoleBinding(json: $0).subjects } ?? []
        }
        XCTAssertEqual(subjects("cluster-admin"), [Subject(kind: "Group", name: "system:masters")])
        XCTAssertEqual(subjects("system:node-proxier"), [Subject(kind: "User", name: "system:kube-proxy")])
        XCTAssertEqual(
            subjects("system:public-info-viewer"),
            [
                Subject(kind: "Group", name: "system:authenticated"),
                Subject(kind: "Group", name: "system:unauthenticated"),
            ])
        XCTAssertEqual(subjects("system:node"), [])
        for binding in BootstrapPolicy.clusterRoleBindings.map(RoleBinding.init(json:)) {
            XCTAssertNotNil(role(binding.roleRef.name), binding.name)
        }
        let roleNames = Set(BootstrapPolicy.roles.map { "\($0.namespace ?? "")/\($0.name ?? "")" })
        for binding in BootstrapPolicy.roleBindings.map(RoleBinding.init(json:)) {
            XCTAssertTrue(roleNames.contains("\(binding.namespace)/\(binding.roleRef.name)"), binding.name)
        }
        XCTAssertEqual(
            BootstrapPolicy.roleBindings.first { $0.name == "system::leader-locking-kube-scheduler" }?["subjects"],
            [
                ["apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:kube-scheduler"],
                ["kind": "ServiceAccount", "name": "kube-scheduler", "namespace": "kube-system"],
            ])
    }

    func testReconciliationAddsWhatIsMissingAndRespectsOptOut() {
        guard let expected = BootstrapPolicy.clusterRoles.first(where: { $0.name == "system:node-proxier" }) else {
            return XCTFail("no system:node-proxier")
        }
        XCTAssertNil(Reconciliation.reconcileRole(existing: expected, expected: expected))
        var trimmed = expected
        trimmed["rules"] = [["verbs": ["list", "watch"], "apiGroups": [""], "resources": ["endpoints", "services"]]]
        trimmed.setMeta("labels", ["team": "net"])
        let reconciled = Reconciliation.reconcileRole(existing: trimmed, expected: expected)
        XCTAssertEqual(reconciled?.labels, ["team": "net", "kubernetes.io/bootstrapping": "rbac-defaults"])
        let rules = (reconciled?["rules"]?.arrayValue ?? []).map(PolicyRule.init(json:))
        XCTAssertTrue(PolicyRules.uncovered(by: rules, Role(json: expected).rules).isEmpty)
        var optedOut = trimmed
        optedOut.setMeta("annotations", ["rbac.authorization.kubernetes.io/autoupdate": "false"])
        XCTAssertNil(Reconciliation.reconcileRole(existing: optedOut, expected: expected))

        guard let binding = BootstrapPolicy.clusterRoleBindings.first(where: { $0.name == "cluster-admin" }) else {
            return XCTFail("no cluster-admin binding")
        }
        var extra = binding
        extra["subjects"] = [["kind": "User", "name": "root", "apiGroup": "rbac.authorization.k8s.io"]]
        guard case .update(let merged) = Reconciliation.reconcileBinding(existing: extra, expected: binding) else {
            return XCTFail("expected an update")
        }
        XCTAssertEqual(merged["subjects"]?.arrayValue?.count, 2, "extra subjects are kept, missing ones added")
        var moved = binding
        moved["roleRef"] = ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"]
        XCTAssertEqual(Reconciliation.reconcileBinding(existing: moved, expected: binding), .recreate(binding))
    }
}

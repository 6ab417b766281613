import APIMachinery
import XCTest

@testable import APIServer

/// upstream's rbac validation: rules, aggregation rules, bindings' roleRef and subjects.
final class RBACValidationTests: XCTestCase {
    func messages(_ errors: [FieldError]) -> [String] { errors.map(\.description) }

    func testPolicyRules() {
        let role = RoleStrategy(clusterScoped: false)
        let clusterRole = RoleStrategy(clusterScoped: true)
        let good: JSON = ["rules": [["apiGroups": [""], "resources": ["pods"], "verbs": ["get"]]]]
        XCTAssertEqual(role.validate(good), [])
        XCTAssertEqual(
            messages(role.validate(["rules": [["apiGroups": [""], "resources": ["pods"]]]])),
            ["rules[0].verbs: Required value: verbs must contain at least one value"])
        XCTAssertEqual(
            messages(role.validate(["rules": [["verbs": ["get"]]]])),
            [
                "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
                "rules[0].resources: Required value: resource rules must supply at least one resource",
            ])
        let urls: JSON = ["rules": [["nonResourceURLs": ["/healthz"], "resources": ["pods"], "verbs": ["get"]]]]
        XCTAssertEqual(
            messages(role.validate(urls)),
            [
                #"rules[0].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs"#,
                #"rules[0].nonResourceURLs: Invalid value: ["/healthz"]: rules cannot apply to both regular resources and non-resource URLs"#,
            ])
        XCTAssertEqual(clusterRole.validate(["rules": [["nonResourceURLs": ["/healthz"], "verbs": ["get"]]]]), [])
        XCTAssertEqual(
            messages(clusterRole.validate(["aggregationRule": ["clusterRoleSelectors": []]])),
            [
                "aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil"
            ])
    }

    func testBindings() {
        let binding = RoleBindingStrategy(clusterScoped: false)
        let clusterBinding = RoleBindingStrategy(clusterScoped: true)
        var object: JSON = [
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"],
            "subjects": [["kind": "User", "name": "jane"], ["kind": "ServiceAccount", "name": "robot"]],
        ]
        binding.applyDefaults(&object)
        XCTAssertEqual(object["subjects"]?.arrayValue?.first?["apiGroup"], "rbac.authorization.k8s.io")
        XCTAssertEqual(binding.validate(object), [])
        XCTAssertEqual(
            messages(clusterBinding.validate(object)),
            [
                #"roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole""#,
                "subjects[1].namespace: Required value",
            ])
        var changed = object
        changed["roleRef"] = ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"]
        XCTAssertEqual(
            binding.validateUpdate(changed, old: object).last?.detail, "cannot change roleRef")
        XCTAssertEqual(
            messages(
                binding.validate([
                    "roleRef": ["apiGroup": "x", "kind": "Role", "name": "a/b"],
                    "subjects": [["kind": "Robot", "name": ""]],
                ])),
            [
                #"roleRef.apiGroup: Unsupported value: "x": supported values: "rbac.authorization.k8s.io""#,
                #"roleRef.name: Invalid value: "a/b": may not contain '/'"#,
                "subjects[0].name: Required value",
                #"subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group""#,
            ])
    }
}

public import APIMachinery

/// The default RBAC policy upstream's API server creates and reconciles at start-up (bootstrappolicy), as
/// objects ready to store: ClusterRoles, ClusterRoleBindings, and the Roles and RoleBindings of kube-system
/// and kube-public. Every object carries `kubernetes.io/bootstrapping: rbac-defaults` and
/// `rbac.authorization.kubernetes.io/autoupdate: "true"`; an administrator opts an object out of
/// reconciliation by setting that annotation to "false".
public enum BootstrapPolicy {
    public static let bootstrappingLabel = "kubernetes.io/bootstrapping"
    public static let autoupdateAnnotation = "rbac.authorization.kubernetes.io/autoupdate"
    static let apiVersion = "rbac.authorization.k8s.io/v1"

    /// Every bootstrap ClusterRole, by name order.
    public static var clusterRoles: [JSON] {
        (ClusterRoles.all + ControllerRoles.all).sorted { ($0.name ?? "") < ($1.name ?? "") }
    }

    /// Every bootstrap ClusterRoleBinding: the components' and the controllers'.
    public static var clusterRoleBindings: [JSON] { componentBindings + ControllerRoles.bindings }

    static let componentBindings: [JSON] = [
        clusterRoleBinding("cluster-admin", subjects: [group("system:masters")]),
        clusterRoleBinding("system:basic-user", subjects: [group("system:authenticated")]),
        clusterRoleBinding("system:discovery", subjects: [group("system:authenticated")]),
        clusterRoleBinding("system:kube-controller-manager", subjects: [user("system:kube-controller-manager")]),
        clusterRoleBinding(
            "system:kube-dns", subjects: [Subject(kind: "ServiceAccount", name: "kube-dns", namespace: "kube-system")]),
        clusterRoleBinding("system:kube-scheduler", subjects: [user("system:kube-scheduler")]),
        clusterRoleBinding("system:monitoring", subjects: [group("system:monitoring")]),
        // Kubelets are authorized by the Node authorizer; the binding stays for clusters that add subjects.
        clusterRoleBinding("system:node", subjects: []),
        clusterRoleBinding("system:node-proxier", subjects: [user("system:kube-proxy")]),
        clusterRoleBinding(
            "system:public-info-viewer", subjects: [group("system:authenticated"), group("system:unauthenticated")]),
        clusterRoleBinding("system:service-account-issuer-discovery", subjects: [group("system:serviceaccounts")]),
        clusterRoleBinding("system:volume-scheduler", subjects: [user("system:kube-scheduler")]),
    ]

    static let leaderLocking = [
        rule(["create", "get", "list", "update", "watch"], ["coordination.k8s.io"], ["leases"]),
        rule(["create", "get", "list", "update", "watch"], ["coordination.k8s.io"], ["leasecandidates"]),
    ]

    /// The namespaced Roles, kube-public's first, then kube-system's.
    public static let roles: [JSON] = [
        role(
            "system:controller:bootstrap-signer", namespace: "kube-public",
            [
                rule(read, [""], ["configmaps"]),
                rule(["update"], [""], ["configmaps"], names: ["cluster-info"]),
                rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
            ]),
        role(
            "extension-apiserver-authentication-reader", namespace: "kube-system",
            [rule(read, [""], ["configmaps"], names: ["extension-apiserver-authentication"])]),
        role("system::leader-locking-kube-controller-manager", namespace: "kube-system", leaderLocking),
        role("system::leader-locking-kube-scheduler", namespace: "kube-system", leaderLocking),
        role("system:controller:bootstrap-signer", namespace: "kube-system", [rule(read, [""], ["secrets"])]),
        role(
            "system:controller:cloud-provider", namespace: "kube-system",
            [rule(["create", "get", "list", "watch"], [""], ["configmaps"])]),
        role(
            "system:controller:token-cleaner", namespace: "kube-system",
            [
                rule(["delete", "get", "list", "watch"], [""], ["secrets"]),
                rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
            ]),
    ]

    public static let roleBindings: [JSON] = [
        roleBinding(
            "system:controller:bootstrap-signer", namespace: "kube-public",
            subjects: [serviceAccount("bootstrap-signer")]),
        roleBinding(
            "system::extension-apiserver-authentication-reader", namespace: "kube-system",
            role: "extension-apiserver-authentication-reader",
            subjects: [user("system:kube-controller-manager"), user("system:kube-scheduler")]),
        roleBinding(
            "system::leader-locking-kube-controller-manager", namespace: "kube-system",
            subjects: [
                user("system:kube-controller-manager"), serviceAccount("kube-controller-manager"),
                serviceAccount("leader-election-controller"),
            ]),
        roleBinding(
            "system::leader-locking-kube-scheduler", namespace: "kube-system",
            subjects: [user("system:kube-scheduler"), serviceAccount("kube-scheduler")]),
        roleBinding(
            "system:controller:bootstrap-signer", namespace: "kube-system",
            subjects: [serviceAccount("bootstrap-signer")]),
        roleBinding(
            "system:controller:cloud-provider", namespace: "kube-system", subjects: [serviceAccount("cloud-provider")]),
        roleBinding(
            "system:controller:token-cleaner", namespace: "kube-system", subjects: [serviceAccount("token-cleaner")]),
    ]

    // MARK: - Builders, in the spirit of upstream's NewRule(...).Groups(...).Resources(...)

    static let read = ["get", "list", "watch"]

    static func rule(_ verbs: [String], _ groups: [String], _ resources: [String], names: [String] = []) -> PolicyRule {
        PolicyRule(verbs: verbs, apiGroups: groups, resources: resources, resourceNames: names)
    }

    static func urls(_ verbs: [String], _ urls: [String]) -> PolicyRule {
        PolicyRule(verbs: verbs, nonResourceURLs: urls)
    }

    static func user(_ name: String) -> Subject { Subject(kind: "User", name: name) }
    static func group(_ name: String) -> Subject { Subject(kind: "Group", name: name) }
    static func serviceAccount(_ name: String) -> Subject {
        Subject(kind: "ServiceAccount", name: name, namespace: "kube-system")
    }

    static func metadata(_ name: String, namespace: String? = nil, labels: [String: String] = [:]) -> JSON {
        var labelObject: JSONObject = [bootstrappingLabel: "rbac-defaults"]
        for key in labels.keys.sorted() { labelObject[key] = .string(labels[key] ?? "") }
        var object: JSONObject = [
            "name": .string(name), "labels": .object(labelObject), "annotations": [autoupdateAnnotation: "true"],
        ]
        if let namespace { object["namespace"] = .string(namespace) }
        return .object(object)
    }

    static func clusterRole(
        _ name: String, labels: [String: String] = [:], aggregatesLabel: String? = nil, _ rules: [PolicyRule] = []
    ) -> JSON {
        var object: JSONObject = [
            "apiVersion": .string(apiVersion), "kind": "ClusterRole", "metadata": metadata(name, labels: labels),
        ]
        if let aggregatesLabel {
            object["aggregationRule"] = ["clusterRoleSelectors": [["matchLabels": [aggregatesLabel: "true"]]]]
        } else {
            object["rules"] = .array(rules.map(\.json))
        }
        return .object(object)
    }

    static func role(_ name: String, namespace: String, _ rules: [PolicyRule]) -> JSON {
        [
            "apiVersion": .string(apiVersion), "kind": "Role", "metadata": metadata(name, namespace: namespace),
            "rules": .array(rules.map(\.json)),
        ]
    }

    static func clusterRoleBinding(_ name: String, subjects: [Subject]) -> JSON {
        var object: JSONObject = [
            "apiVersion": .string(apiVersion), "kind": "ClusterRoleBinding", "metadata": metadata(name),
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(name)],
        ]
        if !subjects.isEmpty { object["subjects"] = .array(subjects.map(\.json)) }
        return .object(object)
    }

    static func roleBinding(_ name: String, namespace: String, role: String? = nil, subjects: [Subject]) -> JSON {
        [
            "apiVersion": .string(apiVersion), "kind": "RoleBinding", "metadata": metadata(name, namespace: namespace),
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": .string(role ?? name)],
            "subjects": .array(subjects.map(\.json)),
        ]
    }
}

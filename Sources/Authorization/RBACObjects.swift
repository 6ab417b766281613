public import APIMachinery

/// A Role or ClusterRole as authorization reads it: its rules, labels and aggregation rule.
public struct Role: Sendable, Equatable {
    /// "" for a ClusterRole.
    public var namespace: String
    public var name: String
    public var labels: [String: String]
    public var rules: [PolicyRule]
    /// `aggregationRule.clusterRoleSelectors`; nil when the role has no aggregation rule.
    public var aggregationSelectors: [LabelSelector]?

    public init(
        namespace: String = "", name: String, labels: [String: String] = [:], rules: [PolicyRule],
        aggregationSelectors: [LabelSelector]? = nil
    ) {
        self.namespace = namespace
        self.name = name
        self.labels = labels
        self.rules = rules
        self.aggregationSelectors = aggregationSelectors
    }

    /// Reads a stored Role or ClusterRole; selectors that do not parse select nothing.
    public init(json: JSON) {
        var selectors: [LabelSelector]?
        if let list = json["aggregationRule"]?["clusterRoleSelectors"]?.arrayValue, !list.isEmpty {
            selectors = list.compactMap { try? LabelSelector(object: $0) }
        }
        self.init(
            namespace: json.namespace ?? "", name: json.name ?? "", labels: json.labels,
            rules: (json["rules"]?.arrayValue ?? []).map(PolicyRule.init(json:)), aggregationSelectors: selectors)
    }

    /// Upstream's `hasAggregationRule`: a rule with at least one selector.
    public var isAggregated: Bool { aggregationSelectors.map { !$0.isEmpty } ?? false }
}

/// `roleRef` of a binding.
public struct RoleRef: Sendable, Hashable {
    public var apiGroup: String
    /// `Role` or `ClusterRole`.
    public var kind: String
    public var name: String

    public init(apiGroup: String = "rbac.authorization.k8s.io", kind: String, name: String) {
        self.apiGroup = apiGroup
        self.kind = kind
        self.name = name
    }
}

/// One subject of a binding: a User, Group or ServiceAccount.
public struct Subject: Sendable, Hashable {
    public var kind: String
    public var name: String
    /// For ServiceAccounts; a RoleBinding's subject without one means the binding's namespace.
    public var namespace: String

    public init(kind: String, name: String, namespace: String = "") {
        self.kind = kind
        self.name = name
        self.namespace = namespace
    }

    public init(json: JSON) {
        self.init(
            kind: json["kind"]?.stringValue ?? "", name: json["name"]?.stringValue ?? "",
            namespace: json["namespace"]?.stringValue ?? "")
    }

    /// The subject's JSON form as upstream writes it (Users and Groups carry the RBAC API group).
    public var json: JSON {
        var object: JSONObject = [:]
        if kind == "ServiceAccount" {
            object["kind"] = .string(kind)
            object["name"] = .string(name)
            object["namespace"] = .string(namespace)
        } else {
            object["apiGroup"] = "rbac.authorization.k8s.io"
            object["kind"] = .string(kind)
            object["name"] = .string(name)
        }
        return .object(object)
    }

    /// Whether this subject names `user`, as upstream's `appliesToUser`; `bindingNamespace` is "" for
    /// ClusterRoleBindings.
    public func applies(to user: UserInfo, bindingNamespace: String) -> Bool {
        switch kind {
        case "User": return user.name == name
        case "Group": return user.groups.contains(name)
        case "ServiceAccount":
            let accountNamespace = namespace.isEmpty ? bindingNamespace : namespace
            guard !accountNamespace.isEmpty else { return false }
            return ServiceAccountName.matches(user.name, namespace: accountNamespace, name: name)
        default: return false
        }
    }

    /// Upstream's `describeSubject`, used in "allowed by" reasons.
    func describe(bindingNamespace: String) -> String {
        if kind == "ServiceAccount" {
            let accountNamespace = namespace.isEmpty ? bindingNamespace : namespace
            return "\(kind) \(GoFormat.quote(name + "/" + accountNamespace))"
        }
        return "\(kind) \(GoFormat.quote(name))"
    }
}

/// A RoleBinding or ClusterRoleBinding.
public struct RoleBinding: Sendable, Hashable {
    /// "" for a ClusterRoleBinding.
    public var namespace: String
    public var name: String
    public var roleRef: RoleRef
    public var subjects: [Subject]

    public init(namespace: String = "", name: String, roleRef: RoleRef, subjects: [Subject]) {
        self.namespace = namespace
        self.name = name
        self.roleRef = roleRef
        self.subjects = subjects
    }

    public init(json: JSON) {
        let ref = json["roleRef"]
        self.init(
            namespace: json.namespace ?? "", name: json.name ?? "",
            roleRef: RoleRef(
                apiGroup: ref?["apiGroup"]?.stringValue ?? "", kind: ref?["kind"]?.stringValue ?? "",
                name: ref?["name"]?.stringValue ?? ""),
            subjects: (json["subjects"]?.arrayValue ?? []).map(Subject.init(json:)))
    }

    /// The first subject that names `user`, as upstream's `appliesTo`.
    public func subject(matching user: UserInfo) -> Subject? {
        subjects.first { $0.applies(to: user, bindingNamespace: namespace) }
    }
}

/// Service-account user names: `system:serviceaccount:<namespace>:<name>`.
public enum ServiceAccountName {
    public static let prefix = "system:serviceaccount:"

    public static func userName(namespace: String, name: String) -> String { prefix + namespace + ":" + name }

    /// Compares without building the full name, as upstream's `MatchesUsername`.
    public static func matches(_ userName: String, namespace: String, name: String) -> Bool {
        var rest = Substring(userName)
        guard rest.hasPrefix(prefix) else { return false }
        rest = rest.dropFirst(prefix.count)
        guard rest.hasPrefix(namespace) else { return false }
        rest = rest.dropFirst(namespace.count)
        guard rest.first == ":" else { return false }
        return rest.dropFirst() == name
    }
}

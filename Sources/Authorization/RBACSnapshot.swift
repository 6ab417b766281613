public import APIMachinery

/// Every Role, ClusterRole, RoleBinding and ClusterRoleBinding at one moment, indexed for the rule resolver.
/// A value type: the server keeps one current copy and swaps in a changed one, so a check reads a consistent
/// snapshot without locks held and without I/O.
public struct RBACSnapshot: Sendable {
    /// namespace → name → Role.
    public private(set) var roles: [String: [String: Role]] = [:]
    public private(set) var clusterRoles: [String: Role] = [:]
    /// namespace → name → RoleBinding.
    public private(set) var roleBindings: [String: [String: RoleBinding]] = [:]
    public private(set) var clusterRoleBindings: [String: RoleBinding] = [:]

    public init() {}

    public init(
        roles: [Role] = [], clusterRoles: [Role] = [], roleBindings: [RoleBinding] = [],
        clusterRoleBindings: [RoleBinding] = []
    ) {
        for role in roles { put(role: role) }
        for role in clusterRoles { put(clusterRole: role) }
        for binding in roleBindings { put(roleBinding: binding) }
        for binding in clusterRoleBindings { put(clusterRoleBinding: binding) }
    }

    public mutating func put(role: Role) { roles[role.namespace, default: [:]][role.name] = role }
    public mutating func put(clusterRole: Role) { clusterRoles[clusterRole.name] = clusterRole }
    public mutating func put(roleBinding: RoleBinding) {
        roleBindings[roleBinding.namespace, default: [:]][roleBinding.name] = roleBinding
    }
    public mutating func put(clusterRoleBinding: RoleBinding) {
        clusterRoleBindings[clusterRoleBinding.name] = clusterRoleBinding
    }

    public mutating func removeRole(namespace: String, name: String) {
        roles[namespace]?[name] = nil
        if roles[namespace]?.isEmpty == true { roles[namespace] = nil }
    }
    public mutating func removeClusterRole(name: String) { clusterRoles[name] = nil }
    public mutating func removeRoleBinding(namespace: String, name: String) {
        roleBindings[namespace]?[name] = nil
        if roleBindings[namespace]?.isEmpty == true { roleBindings[namespace] = nil }
    }
    public mutating func removeClusterRoleBinding(name: String) { clusterRoleBindings[name] = nil }
}

// MARK: - Rule resolution (upstream's DefaultRuleResolver)

/// Where a rule came from, described as upstream's "allowed by" reasons describe it.
public struct RuleSource: Sendable, CustomStringConvertible {
    public let binding: RoleBinding
    public let subject: Subject

    public var description: String {
        let ref = "\(binding.roleRef.kind) \(GoFormat.quote(binding.roleRef.name))"
        if binding.namespace.isEmpty {
            return
                "ClusterRoleBinding \(GoFormat.quote(binding.name)) of \(ref) to \(subject.describe(bindingNamespace: ""))"
        }
        return "RoleBinding \(GoFormat.quote(binding.name + "/" + binding.namespace)) of \(ref) to "
            + subject.describe(bindingNamespace: binding.namespace)
    }
}

extension RBACSnapshot {
    /// The rules a role reference grants; the error reads as upstream's lister NotFound errors.
    public func rules(for ref: RoleRef, bindingNamespace: String) -> Result<[PolicyRule], RBACResolutionError> {
        switch ref.kind {
        case "Role":
            guard let role = roles[bindingNamespace]?[ref.name] else {
                return .failure(
                    RBACResolutionError("role.rbac.authorization.k8s.io \(GoFormat.quote(ref.name)) not found"))
            }
            return .success(role.rules)
        case "ClusterRole":
            guard let role = clusterRoles[ref.name] else {
                return .failure(
                    RBACResolutionError("clusterrole.rbac.authorization.k8s.io \(GoFormat.quote(ref.name)) not found"))
            }
            return .success(role.rules)
        default:
            return .failure(RBACResolutionError("unsupported role reference kind: \(GoFormat.quote(ref.kind))"))
        }
    }

    /// Calls `visit` with every rule that applies to `user` in `namespace` (ClusterRoleBindings first, then the
    /// namespace's RoleBindings) and with every resolution error; `visit` returns false to stop early.
    public func visitRules(
        for user: UserInfo, namespace: String, _ visit: (RuleSource?, PolicyRule?, RBACResolutionError?) -> Bool
    ) {
        for binding in clusterRoleBindings.values {
            guard let subject = binding.subject(matching: user) else { continue }
            switch rules(for: binding.roleRef, bindingNamespace: "") {
            case .failure(let error): if !visit(nil, nil, error) { return }
            case .success(let rules):
                let source = RuleSource(binding: binding, subject: subject)
                for rule in rules where !visit(source, rule, nil) { return }
            }
        }
        guard !namespace.isEmpty, let bindings = roleBindings[namespace] else { return }
        for binding in bindings.values {
            guard let subject = binding.subject(matching: user) else { continue }
            switch rules(for: binding.roleRef, bindingNamespace: namespace) {
            case .failure(let error): if !visit(nil, nil, error) { return }
            case .success(let rules):
                let source = RuleSource(binding: binding, subject: subject)
                for rule in rules where !visit(source, rule, nil) { return }
            }
        }
    }

    /// Every rule `user` holds in `namespace` ("" for cluster scope), and the errors met on the way.
    public func rules(for user: UserInfo, namespace: String) -> (rules: [PolicyRule], errors: [RBACResolutionError]) {
        var rules: [PolicyRule] = []
        var errors: [RBACResolutionError] = []
        visitRules(for: user, namespace: namespace) { _, rule, error in
            if let rule { rules.append(rule) }
            if let error { errors.append(error) }
            return true
        }
        return (rules, errors)
    }
}

/// A binding whose role cannot be resolved; authorization goes on with the rules it can find.
public struct RBACResolutionError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// Upstream's aggregate error text: one message as is, several (deduplicated) as `[a, b]`.
    public static func aggregate(_ errors: [RBACResolutionError]) -> String {
        var seen: [String] = []
        for error in errors where !seen.contains(error.message) { seen.append(error.message) }
        if seen.count <= 1 { return seen.first ?? "" }
        return "[" + seen.joined(separator: ", ") + "]"
    }
}

/// `--authorization-mode=RBAC`: allows what some bound rule allows, and otherwise has no opinion.
public struct RBACAuthorizer: Authorizer {
    let snapshot: @Sendable () -> RBACSnapshot

    /// `snapshot` returns the current policy; it is called once per check and must not block.
    public init(snapshot: @escaping @Sendable () -> RBACSnapshot) { self.snapshot = snapshot }

    public func authorize(_ attributes: Attributes) -> Decision {
        var allowedBy: RuleSource?
        var errors: [RBACResolutionError] = []
        snapshot().visitRules(for: attributes.user, namespace: attributes.namespace) { source, rule, error in
            if let rule, rule.allows(attributes) {
                allowedBy = source
                return false
            }
            if let error { errors.append(error) }
            return true
        }
        if let allowedBy { return .allow(reason: "RBAC: allowed by \(allowedBy)") }
        return .noOpinion(reason: errors.isEmpty ? "" : "RBAC: " + RBACResolutionError.aggregate(errors))
    }

    public func rules(for user: UserInfo, namespace: String) -> RulesReview {
        let (rules, errors) = snapshot().rules(for: user, namespace: namespace)
        var review = RulesReview()
        for rule in rules {
            if !rule.resources.isEmpty {
                review.resourceRules.append(
                    PolicyRule(
                        verbs: rule.verbs, apiGroups: rule.apiGroups, resources: rule.resources,
                        resourceNames: rule.resourceNames))
            }
            if !rule.nonResourceURLs.isEmpty {
                review.nonResourceRules.append(PolicyRule(verbs: rule.verbs, nonResourceURLs: rule.nonResourceURLs))
            }
        }
        if !errors.isEmpty { review.evaluationErrors = [RBACResolutionError.aggregate(errors)] }
        return review
    }
}

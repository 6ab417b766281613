public import APIMachinery

/// Privilege-escalation prevention for RBAC writes, as upstream's policy-based role and binding storage: a
/// user may only create or change a role whose rules they already hold (or with `escalate` on it), and only
/// bind a role they could grant themselves (or with `bind` on it). `system:masters` is never checked.
public struct EscalationCheck: Sendable {
    public static let rbacGroup = "rbac.authorization.k8s.io"

    /// The policy the writer's own rules are resolved from.
    public let snapshot: RBACSnapshot
    /// The server's whole authorizer chain, asked about the `escalate` and `bind` verbs.
    public let authorizer: any Authorizer

    public init(snapshot: RBACSnapshot, authorizer: any Authorizer) {
        self.snapshot = snapshot
        self.authorizer = authorizer
    }

    /// Upstream's `EscalationAllowed`: no user (the server itself) or a `system:masters` member.
    public static func escalationAllowed(_ user: UserInfo?) -> Bool {
        guard let user else { return true }
        return user.groups.contains("system:masters")
    }

    /// Upstream's `ConfirmNoEscalation`: nil when `user`'s rules in `namespace` cover `rules`, otherwise the
    /// message naming each missing permission.
    public func confirmNoEscalation(user: UserInfo, namespace: String, rules: [PolicyRule]) -> String? {
        let (owned, errors) = snapshot.rules(for: user, namespace: namespace)
        let missing = PolicyRules.uncovered(by: owned, rules)
        guard !missing.isEmpty else { return nil }
        let descriptions = Set(PolicyRules.compact(missing).map(\.compactString)).sorted()
        var message =
            "user \(GoFormat.quote(user.name)) (groups=\(PolicyRule.quoted(user.groups))) is attempting to grant RBAC permissions not currently held:\n"
            + descriptions.joined(separator: "\n")
        if !errors.isEmpty { message += "; resolution errors: [\(RBACResolutionError.aggregate(errors))]" }
        return message
    }

    /// Upstream's `RoleEscalationAuthorized`: the writer holds `escalate` on this role.
    func escalateAuthorized(user: UserInfo, resource: String, namespace: String, name: String) -> Bool {
        authorizer.authorize(
            Attributes(
                user: user, verb: "escalate", apiGroup: Self.rbacGroup, apiVersion: "*", resource: resource,
                namespace: namespace, name: name)
        ).isAllowed
    }

    /// Upstream's `BindingAuthorized`: the writer holds `bind` on the referenced role, in the binding's namespace.
    func bindAuthorized(user: UserInfo, roleRef: RoleRef, namespace: String) -> Bool {
        let resource: String
        switch roleRef.kind {
        case "ClusterRole": resource = "clusterroles"
        case "Role": resource = "roles"
        default: return false
        }
        return authorizer.authorize(
            Attributes(
                user: user, verb: "bind", apiGroup: roleRef.apiGroup, apiVersion: "", resource: resource,
                namespace: namespace, name: roleRef.name)
        ).isAllowed
    }

    /// A create or update of a Role in `namespace`.
    public func checkRole(user: UserInfo?, namespace: String, role: Role) -> APIError? {
        guard let user, !Self.escalationAllowed(user),
            !escalateAuthorized(user: user, resource: "roles", namespace: namespace, name: role.name)
        else { return nil }
        return confirmNoEscalation(user: user, namespace: namespace, rules: role.rules).map {
            Forbidden.error(GroupResource(group: Self.rbacGroup, resource: "roles"), name: role.name, message: $0)
        }
    }

    /// A create (`old` nil) or update of a ClusterRole; setting, changing or dropping an aggregation rule
    /// needs every permission, since an aggregation can gather anything.
    public func checkClusterRole(user: UserInfo?, role: Role, old: Role?) -> APIError? {
        guard let user, !Self.escalationAllowed(user),
            !escalateAuthorized(user: user, resource: "clusterroles", namespace: "", name: role.name)
        else { return nil }
        let resource = GroupResource(group: Self.rbacGroup, resource: "clusterroles")
        if let message = confirmNoEscalation(user: user, namespace: "", rules: role.rules) {
            return Forbidden.error(resource, name: role.name, message: message)
        }
        if role.isAggregated || old?.isAggregated == true,
            confirmNoEscalation(user: user, namespace: "", rules: Self.fullAuthority) != nil
        {
            return Forbidden.error(
                resource, name: role.name, message: "must have cluster-admin privileges to use the aggregationRule")
        }
        return nil
    }

    /// A create or update of a RoleBinding (`namespace` set) or ClusterRoleBinding (`namespace` "").
    public func checkBinding(user: UserInfo?, binding: RoleBinding) -> APIError? {
        guard let user, !Self.escalationAllowed(user),
            !bindAuthorized(user: user, roleRef: binding.roleRef, namespace: binding.namespace)
        else { return nil }
        let resource = GroupResource(
            group: Self.rbacGroup, resource: binding.namespace.isEmpty ? "clusterrolebindings" : "rolebindings")
        switch snapshot.rules(for: binding.roleRef, bindingNamespace: binding.namespace) {
        case .failure(let error):
            return Forbidden.error(resource, name: binding.name, message: error.message)
        case .success(let rules):
            return confirmNoEscalation(user: user, namespace: binding.namespace, rules: rules).map {
                Forbidden.error(resource, name: binding.name, message: $0)
            }
        }
    }

    /// `*` on everything: what using an aggregation rule requires.
    public static let fullAuthority = [
        PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"]),
        PolicyRule(verbs: ["*"], nonResourceURLs: ["*"]),
    ]
}

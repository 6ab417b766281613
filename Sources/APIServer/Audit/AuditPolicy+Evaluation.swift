public import APIMachinery

/// What the policy looks at in a request (the subset of upstream's authorizer attributes it reads).
public struct AuditAttributes: Sendable {
    public var user: UserInfo?
    public var verb: String
    public var isResourceRequest: Bool
    public var apiGroup = ""
    public var resource = ""
    public var subresource = ""
    /// `""` for cluster-scoped resources.
    public var namespace = ""
    public var name = ""
    /// The URL path, for non-resource rules.
    public var path: String

    public init(
        user: UserInfo?, verb: String, isResourceRequest: Bool, apiGroup: String = "", resource: String = "",
        subresource: String = "", namespace: String = "", name: String = "", path: String
    ) {
        self.user = user
        self.verb = verb
        self.isResourceRequest = isResourceRequest
        self.apiGroup = apiGroup
        self.resource = resource
        self.subresource = subresource
        self.namespace = namespace
        self.name = name
        self.path = path
    }
}

/// The outcome of evaluating a policy for one request.
public struct AuditRequestConfig: Sendable, Equatable {
    public var level: AuditLevel
    /// Stages not written: the rule's and the policy's, combined.
    public var omitStages: Set<AuditStage>
    public var omitManagedFields: Bool
}

extension AuditPolicy {
    /// The first matching rule decides; no match is level None, as upstream's policy checker.
    public func evaluate(_ attributes: AuditAttributes) -> AuditRequestConfig {
        let policyStages = Set(omitStages)
        for rule in rules where rule.matches(attributes) {
            return AuditRequestConfig(
                level: rule.level, omitStages: policyStages.union(rule.omitStages),
                omitManagedFields: rule.omitManagedFields ?? omitManagedFields)
        }
        return AuditRequestConfig(level: .none, omitStages: policyStages, omitManagedFields: omitManagedFields)
    }
}

extension AuditPolicy.Rule {
    func matches(_ attributes: AuditAttributes) -> Bool {
        if !users.isEmpty {
            guard let user = attributes.user, users.contains(user.name) else { return false }
        }
        if !userGroups.isEmpty {
            guard let user = attributes.user, user.groups.contains(where: userGroups.contains) else { return false }
        }
        if !verbs.isEmpty, !verbs.contains(attributes.verb) { return false }
        if !namespaces.isEmpty || !resources.isEmpty { return matchesResource(attributes) }
        if !nonResourceURLs.isEmpty {
            return !attributes.isResourceRequest
                && nonResourceURLs.contains { Self.pathMatches(attributes.path, spec: $0) }
        }
        return true
    }

    /// `*`, an exact path, or a prefix ending in `*`.
    static func pathMatches(_ path: String, spec: String) -> Bool {
        if spec == "*" || spec == path { return true }
        guard spec.hasSuffix("*") else { return false }
        var prefix = Substring(spec)
        while prefix.last == "*" { prefix.removeLast() }
        return path.hasPrefix(prefix)
    }

    private func matchesResource(_ attributes: AuditAttributes) -> Bool {
        guard attributes.isResourceRequest else { return false }
        if !namespaces.isEmpty, !namespaces.contains(attributes.namespace) { return false }
        if resources.isEmpty { return true }
        let subresource = attributes.subresource
        let combined = subresource.isEmpty ? attributes.resource : attributes.resource + "/" + subresource
        for entry in resources where entry.group == attributes.apiGroup {
            if entry.resources.isEmpty { return true }
            guard entry.resourceNames.isEmpty || entry.resourceNames.contains(attributes.name) else { continue }
            for resource in entry.resources {
                if resource == combined || resource == "*" { return true }
                if !subresource.isEmpty, resource.hasPrefix("*/"), resource.dropFirst(2) == subresource { return true }
                if resource.hasSuffix("/*"), resource.dropLast(2) == attributes.resource { return true }
            }
        }
        return false
    }
}

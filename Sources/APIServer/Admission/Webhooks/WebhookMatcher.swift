import APIMachinery

/// A webhook chosen for a request, with the version it is to see the object in: the request's own, or, under
/// `matchPolicy: Equivalent`, another served version of the same stored resource that its rules name.
struct WebhookInvocation: Sendable {
    var webhook: Webhook
    var resource: GroupVersionResource
    var kind: GroupVersionKind
    /// Presents the stored object in `resource`'s version; nil when that version is the stored one.
    var conversion: (any VersionConversion)?
}

/// Upstream's webhook matching (`ShouldCallHook`): exempt kinds, rules (operation, group, version, resource and
/// subresource, scope), matchPolicy, then the namespace and object selectors. Pure apart from the namespace
/// labels, which the caller looks up at most once per request.
struct WebhookMatcher: Sendable {
    /// Served resources by group, version and resource, and the versions sharing each storage folder.
    private let definitions: [GroupVersionResource: ResourceDefinition]
    private let equivalents: [String: [ResourceDefinition]]

    init(resources: [ResourceDefinition] = Catalog.resources) {
        var definitions: [GroupVersionResource: ResourceDefinition] = [:]
        var equivalents: [String: [ResourceDefinition]] = [:]
        for definition in resources {
            let key = GroupVersionResource(
                group: definition.group, version: definition.version, resource: definition.resource)
            definitions[key] = definition
            equivalents[definition.storageFolder, default: []].append(definition)
        }
        self.definitions = definitions
        self.equivalents = equivalents
    }

    /// The admission configuration kinds themselves never go to webhooks, so a broken webhook can always be
    /// removed.
    static let exempt: Set<GroupResource> = Set(
        [
            "validatingwebhookconfigurations", "mutatingwebhookconfigurations", "validatingadmissionpolicies",
            "validatingadmissionpolicybindings", "mutatingadmissionpolicies", "mutatingadmissionpolicybindings",
        ].map { GroupResource(group: "admissionregistration.k8s.io", resource: $0) })

    static let namespaces = GroupResource(group: "", resource: "namespaces")

    /// The webhook's invocation for this request, or nil when its rules or selectors leave the request out.
    /// `namespaceLabels` is asked only when a namespace selector has to be evaluated.
    func invocation(
        of webhook: Webhook, for attributes: AdmissionAttributes, object: JSON?,
        namespaceLabels: () async throws -> [String: String]
    ) async throws -> WebhookInvocation? {
        guard !Self.exempt.contains(attributes.resource) else { return nil }
        guard let invocation = ruleInvocation(of: webhook, for: attributes) else { return nil }
        guard Self.objectSelectorMatches(webhook.objectSelector, object: object, old: attributes.oldObject) else {
            return nil
        }
        if !webhook.namespaceSelector.isEverything, Self.namespaceSelectorApplies(attributes) {
            guard webhook.namespaceSelector.matches(try await namespaceLabels()) else { return nil }
        }
        return invocation
    }

    /// The version a webhook's rules select: the request's own first, then, for `Equivalent`, every other
    /// served version of the same stored resource in catalog order.
    func ruleInvocation(of webhook: Webhook, for attributes: AdmissionAttributes) -> WebhookInvocation? {
        let matched = version(for: attributes, equivalent: webhook.matchPolicy == .equivalent) { resource in
            Self.rulesMatch(webhook.rules, attributes, resource: resource)
        }
        return matched.map {
            WebhookInvocation(webhook: webhook, resource: $0.resource, kind: $0.kind, conversion: $0.conversion)
        }
    }

    /// A served version of the request's resource, with how to present the stored object in it.
    struct MatchedVersion: Sendable {
        var resource: GroupVersionResource
        var kind: GroupVersionKind
        /// Nil when the version is the stored one.
        var conversion: (any VersionConversion)?
    }

    /// The first version `accepts` takes: the request's own, then, when `equivalent`, every other served
    /// version of the same stored resource in catalog order (upstream's `matchPolicy: Equivalent`), for
    /// webhooks and admission policies alike.
    func version(
        for attributes: AdmissionAttributes, equivalent: Bool, accepts: (GroupVersionResource) -> Bool
    ) -> MatchedVersion? {
        let requested = GroupVersionResource(
            group: attributes.resource.group, version: attributes.kind.version, resource: attributes.resource.resource)
        let definition = definitions[requested]
        if accepts(requested) {
            return MatchedVersion(resource: requested, kind: attributes.kind, conversion: definition?.conversion)
        }
        guard equivalent, let definition else { return nil }
        for other in equivalents[definition.storageFolder] ?? [] {
            let resource = GroupVersionResource(group: other.group, version: other.version, resource: other.resource)
            guard resource != requested, other.namespaced == definition.namespaced,
                attributes.subresource.isEmpty || other.subresources.contains(attributes.subresource),
                accepts(resource)
            else { continue }
            return MatchedVersion(resource: resource, kind: other.groupVersionKind, conversion: other.conversion)
        }
        return nil
    }

    static func rulesMatch(_ rules: [WebhookRule], _ attributes: AdmissionAttributes, resource: GroupVersionResource)
        -> Bool
    {
        rules.contains { rule in
            scopeMatches(rule.scope, attributes)
                && matches(rule.operations, attributes.operation.rawValue)
                && matches(rule.apiGroups, resource.group) && matches(rule.apiVersions, resource.version)
                && resourceMatches(rule.resources, resource: resource.resource, subresource: attributes.subresource)
        }
    }

    private static func matches(_ allowed: [String], _ value: String) -> Bool {
        allowed.contains("*") || allowed.contains(value)
    }

    /// `pods` names the resource alone, `pods/status` one subresource, `pods/*` all of them, `*/status` the
    /// status of every resource, `*` every resource without its subresources, `*/*` everything.
    static func resourceMatches(_ patterns: [String], resource: String, subresource: String) -> Bool {
        patterns.contains { pattern in
            let parts = pattern.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            let sub = parts.count > 1 ? String(parts[1]) : ""
            return (name == "*" || name == resource) && (sub == "*" || sub == subresource)
        }
    }

    /// A Namespace is cluster-scoped, whatever namespace its own requests name.
    static func scopeMatches(_ scope: String, _ attributes: AdmissionAttributes) -> Bool {
        let clusterScoped = attributes.resource == namespaces || (attributes.namespace ?? "").isEmpty
        switch scope {
        case "*", "": return true
        case "Namespaced": return !clusterScoped
        case "Cluster": return clusterScoped
        default: return false
        }
    }

    /// Cluster-scoped requests other than those for a Namespace are never exempted by a namespace selector.
    static func namespaceSelectorApplies(_ attributes: AdmissionAttributes) -> Bool {
        attributes.resource == namespaces || !(attributes.namespace ?? "").isEmpty
    }

    /// The selector matches when either the new or the old object carries matching labels.
    static func objectSelectorMatches(_ selector: LabelSelector, object: JSON?, old: JSON?) -> Bool {
        if selector.isEverything { return true }
        return [object, old].contains { candidate in candidate.map { selector.matches($0.labels) } ?? false }
    }
}

import APIMachinery

/// Upstream's admission policy matching (`policy/generic`'s Matcher) on top of the webhooks' rule and selector
/// matching: namespace and object selectors, then `excludeResourceRules`, then `resourceRules` (with
/// `resourceNames` and matchPolicy); a selector that does not parse is reported only for requests the rules
/// match.
struct PolicyMatcher: Sendable {
    let versions: WebhookMatcher

    init(versions: WebhookMatcher = WebhookMatcher()) {
        self.versions = versions
    }

    /// Policies never apply to the policy kinds themselves, so a broken policy can always be fixed.
    static let exempt: Set<GroupResource> = Set(
        [
            "validatingadmissionpolicies", "validatingadmissionpolicybindings", "mutatingadmissionpolicies",
            "mutatingadmissionpolicybindings",
        ].map { GroupResource(group: "admissionregistration.k8s.io", resource: $0) })

    /// How a request met some match resources.
    enum Outcome: Sendable {
        case notMatched
        /// Matched, in this version of the resource.
        case matched(WebhookMatcher.MatchedVersion)
        /// The match resources are broken (a selector that does not parse); upstream's configuration error.
        case misconfigured(String)
    }

    /// Matches `resources` against the request; `namespaceLabels` is asked only when a namespace selector
    /// has to be evaluated.
    func match(
        _ resources: PolicyMatchResources, _ attributes: AdmissionAttributes, object: JSON?,
        namespaceLabels: () async throws -> [String: String]
    ) async throws -> Outcome {
        if resources.namespaceSelectorError == nil, !resources.namespaceSelector.isEverything,
            WebhookMatcher.namespaceSelectorApplies(attributes)
        {
            guard resources.namespaceSelector.matches(try await namespaceLabels()) else { return .notMatched }
        }
        if resources.objectSelectorError == nil {
            guard
                WebhookMatcher.objectSelectorMatches(
                    resources.objectSelector, object: object, old: attributes.oldObject)
            else { return .notMatched }
        }
        if version(resources.excludeResourceRules, resources.equivalent, attributes) != nil { return .notMatched }
        let matched: WebhookMatcher.MatchedVersion?
        if resources.resourceRules.isEmpty {
            // No rules (a binding's matchResources may have none) match the request as it came.
            matched = versions.version(for: attributes, equivalent: false) { _ in true }
        } else {
            matched = version(resources.resourceRules, resources.equivalent, attributes)
        }
        guard let matched else { return .notMatched }
        if let error = resources.namespaceSelectorError ?? resources.objectSelectorError {
            return .misconfigured(error)
        }
        return .matched(matched)
    }

    private func version(
        _ rules: [PolicyMatchResources.Rule], _ equivalent: Bool, _ attributes: AdmissionAttributes
    ) -> WebhookMatcher.MatchedVersion? {
        guard !rules.isEmpty else { return nil }
        return versions.version(for: attributes, equivalent: equivalent) { resource in
            rules.contains { rule in
                (rule.resourceNames.isEmpty || rule.resourceNames.contains(attributes.name))
                    && WebhookMatcher.rulesMatch([rule.rule], attributes, resource: resource)
            }
        }
    }
}

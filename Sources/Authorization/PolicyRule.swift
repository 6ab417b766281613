public import APIMachinery

/// One `rbac.authorization.k8s.io/v1` PolicyRule: verbs on resources of API groups (optionally only some
/// names), or verbs on non-resource URLs. `*` matches everything in its field.
public struct PolicyRule: Sendable, Hashable {
    public var verbs: [String]
    public var apiGroups: [String]
    /// `pods`, `pods/log` (a subresource), `*/scale` (a subresource of any resource) or `*`.
    public var resources: [String]
    public var resourceNames: [String]
    /// Exact paths, or prefixes ending in `*`.
    public var nonResourceURLs: [String]

    public init(
        verbs: [String], apiGroups: [String] = [], resources: [String] = [], resourceNames: [String] = [],
        nonResourceURLs: [String] = []
    ) {
        self.verbs = verbs
        self.apiGroups = apiGroups
        self.resources = resources
        self.resourceNames = resourceNames
        self.nonResourceURLs = nonResourceURLs
    }

    /// Reads a rule from its JSON form; missing or non-string entries are ignored, as they cannot match.
    public init(json: JSON) {
        func strings(_ key: String) -> [String] { json[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        self.init(
            verbs: strings("verbs"), apiGroups: strings("apiGroups"), resources: strings("resources"),
            resourceNames: strings("resourceNames"), nonResourceURLs: strings("nonResourceURLs"))
    }

    /// The rule's JSON form, fields in upstream's order and empty lists left out.
    public var json: JSON {
        var object = JSONObject()
        object["verbs"] = .array(verbs.map(JSON.string))
        if !apiGroups.isEmpty { object["apiGroups"] = .array(apiGroups.map(JSON.string)) }
        if !resources.isEmpty { object["resources"] = .array(resources.map(JSON.string)) }
        if !resourceNames.isEmpty { object["resourceNames"] = .array(resourceNames.map(JSON.string)) }
        if !nonResourceURLs.isEmpty { object["nonResourceURLs"] = .array(nonResourceURLs.map(JSON.string)) }
        return .object(object)
    }

    /// Upstream's `CompactString`, used in escalation messages: `{APIGroups:["apps"], Resources:["pods"], Verbs:["get"]}`.
    public var compactString: String {
        var parts: [String] = []
        if !apiGroups.isEmpty { parts.append("APIGroups:" + Self.quoted(apiGroups)) }
        if !resources.isEmpty { parts.append("Resources:" + Self.quoted(resources)) }
        if !nonResourceURLs.isEmpty { parts.append("NonResourceURLs:" + Self.quoted(nonResourceURLs)) }
        if !resourceNames.isEmpty { parts.append("ResourceNames:" + Self.quoted(resourceNames)) }
        if !verbs.isEmpty { parts.append("Verbs:" + Self.quoted(verbs)) }
        return "{" + parts.joined(separator: ", ") + "}"
    }

    /// Go's `%q` of a string slice: `["a" "b"]`.
    static func quoted(_ values: [String]) -> String {
        "[" + values.map(GoFormat.quote).joined(separator: " ") + "]"
    }
}

// MARK: - Matching (upstream's rbac/v1 evaluation helpers)

extension PolicyRule {
    /// Whether this rule allows the request, exactly as upstream's `RuleAllows`.
    public func allows(_ attributes: Attributes) -> Bool {
        guard verbMatches(attributes.verb) else { return false }
        if attributes.isResourceRequest {
            let combined =
                attributes.subresource.isEmpty
                ? attributes.resource : attributes.resource + "/" + attributes.subresource
            return apiGroupMatches(attributes.apiGroup)
                && resourceMatches(combined, subresource: attributes.subresource)
                && resourceNameMatches(attributes.name)
        }
        return nonResourceURLMatches(attributes.path)
    }

    public func verbMatches(_ verb: String) -> Bool {
        verbs.contains { $0 == "*" || $0 == verb }
    }

    public func apiGroupMatches(_ group: String) -> Bool {
        apiGroups.contains { $0 == "*" || $0 == group }
    }

    /// `combined` is `resource` or `resource/subresource`; a rule's `*/sub` matches any resource's `sub`.
    public func resourceMatches(_ combined: String, subresource: String) -> Bool {
        for rule in resources {
            if rule == "*" || rule == combined { return true }
            if !subresource.isEmpty, rule.utf8.count == subresource.utf8.count + 2, rule.hasPrefix("*/"),
                rule.hasSuffix(subresource)
            {
                return true
            }
        }
        return false
    }

    /// An empty resourceNames list matches every name (including none, for list and create).
    public func resourceNameMatches(_ name: String) -> Bool {
        resourceNames.isEmpty || resourceNames.contains(name)
    }

    public func nonResourceURLMatches(_ path: String) -> Bool {
        for rule in nonResourceURLs {
            if rule == "*" || rule == path { return true }
            if rule.hasSuffix("*"), path.hasPrefix(rule.trimmingSuffix("*")) {
                return true
            }
        }
        return false
    }
}

extension String {
    /// Drops every trailing `character`, as Go's `strings.TrimRight(s, "*")`.
    func trimmingSuffix(_ character: Character) -> Substring {
        var slice = self[...]
        while slice.last == character { slice.removeLast() }
        return slice
    }
}

import APIMachinery
import Foundation

/// Validation admissionregistration.k8s.io's kinds share, with upstream's paths and messages: rules with
/// operations, match resources, label selectors and `matchConditions`.
enum AdmissionRegistrationValidation {
    static let operations = ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"]
    static let scopes = ["*", "Cluster", "Namespaced"]
    static let maxMatchConditions = 64

    /// Go's `strings.TrimSpace`, which upstream applies before checking an expression or message.
    static func trim(_ text: String) -> String { text.trimmingCharacters(in: .whitespacesAndNewlines) }

    static func strings(_ json: JSON?) -> [String] { json?.arrayValue?.compactMap(\.stringValue) ?? [] }

    /// Upstream's `validateMatchConditions`: at most 64, each named (a qualified name, unique) with an
    /// expression that compiles against `variables`.
    static func matchConditions(_ json: JSON?, variables: Set<String>, path: String) -> [FieldError] {
        let conditions = json?.arrayValue ?? []
        var errors: [FieldError] = []
        if conditions.count > maxMatchConditions {
            errors.append(
                FieldError(
                    .tooMany(maxMatchConditions), path,
                    detail: "\(conditions.count): must have at most \(maxMatchConditions) items"))
        }
        var names = Set<String>()
        for (index, condition) in conditions.enumerated() {
            let itemPath = "\(path)[\(index)]"
            let expression = condition["expression"]?.stringValue ?? ""
            if trim(expression).isEmpty {
                errors.append(.required(itemPath + ".expression"))
            } else {
                errors += CELAdmission.compileErrors(
                    trim(expression), variables: variables, path: itemPath + ".expression")
            }
            let name = condition["name"]?.stringValue ?? ""
            if name.isEmpty {
                errors.append(.required(itemPath + ".name"))
            } else {
                errors += NameValidation.qualifiedName(name).map { .invalid(itemPath + ".name", .string(name), $0) }
            }
            if !name.isEmpty, !names.insert(name).inserted {
                errors.append(.duplicate(itemPath + ".name", .string(name)))
            }
        }
        return errors
    }

    /// Upstream's `validateMatchResources`, for a policy's `matchConstraints` and a binding's `matchResources`.
    static func matchResources(_ json: JSON, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        if let policy = json["matchPolicy"] {
            errors += WebhookConfigurationStrategy.oneOf(
                policy, WebhookConfigurationStrategy.matchPolicies.sorted(), path: path + ".matchPolicy")
        } else {
            errors.append(.required(path + ".matchPolicy"))
        }
        for field in ["namespaceSelector", "objectSelector"] {
            guard let selector = json[field] else {
                errors.append(.required("\(path).\(field)"))
                continue
            }
            errors += labelSelector(selector, path: "\(path).\(field)")
        }
        for field in ["resourceRules", "excludeResourceRules"] {
            for (index, rule) in (json[field]?.arrayValue ?? []).enumerated() {
                errors += namedRule(rule, path: "\(path).\(field)[\(index)]")
            }
        }
        return errors
    }

    static func labelSelector(_ json: JSON, path: String) -> [FieldError] {
        do {
            _ = try LabelSelector(object: json)
            return []
        } catch {
            return [.invalid(path, json, error.message)]
        }
    }

    /// A NamedRuleWithOperations: unique path-segment resource names, then the rule with its operations.
    static func namedRule(_ rule: JSON, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        var seen = Set<String>()
        for (index, name) in strings(rule["resourceNames"]).enumerated() {
            let itemPath = "\(path).resourceNames[\(index)]"
            errors += NameValidation.pathSegmentName(name).map { .invalid(itemPath, .string(name), $0) }
            if !seen.insert(name).inserted { errors.append(.duplicate(itemPath, .string(name))) }
        }
        return errors + ruleWithOperations(rule, path: path)
    }

    /// Upstream's `validateRuleWithOperations` (subresources allowed).
    static func ruleWithOperations(_ rule: JSON, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let operations = strings(rule["operations"])
        if operations.isEmpty { errors.append(.required(path + ".operations")) }
        if operations.count > 1, operations.contains("*") {
            errors.append(
                .invalid(
                    path + ".operations", rule["operations"] ?? .null,
                    "if '*' is present, must not specify other operations"))
        }
        for (index, operation) in operations.enumerated() where !Self.operations.contains(operation) {
            errors.append(.notSupported("\(path).operations[\(index)]", .string(operation), Self.operations))
        }
        for (field, noun) in [("apiGroups", "API groups"), ("apiVersions", "API versions")] {
            let values = strings(rule[field])
            if values.isEmpty { errors.append(.required("\(path).\(field)")) }
            if values.count > 1, values.contains("*") {
                errors.append(
                    .invalid(
                        "\(path).\(field)", rule[field] ?? .null, "if '*' is present, must not specify other \(noun)"))
            }
        }
        for (index, version) in strings(rule["apiVersions"]).enumerated() where version.isEmpty {
            errors.append(.required("\(path).apiVersions[\(index)]"))
        }
        errors += resources(rule["resources"], path: path + ".resources")
        if let scope = rule["scope"], !scopes.contains(scope.stringValue ?? "") {
            errors.append(.notSupported(path + ".scope", scope, scopes))
        }
        return errors
    }

    /// Upstream's `validateResources`: `x/*` and `*/x` exclude more specific entries, `*/*` stands alone.
    private static func resources(_ json: JSON?, path: String) -> [FieldError] {
        let resources = strings(json)
        var errors: [FieldError] = []
        if resources.isEmpty { errors.append(.required(path)) }
        var wildcardSubresources = Set<String>()
        var wildcardResources = Set<String>()
        var hasResourceWithoutSubresource = false
        for (index, entry) in resources.enumerated() {
            if entry.isEmpty {
                errors.append(.required("\(path)[\(index)]"))
                continue
            }
            let parts = entry.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 else {
                hasResourceWithoutSubresource = entry != "*"
                continue
            }
            let (resource, subresource) = (parts[0], parts[1])
            if wildcardSubresources.contains(resource) {
                errors.append(
                    .invalid(
                        "\(path)[\(index)]", .string(entry), "if '\(resource)/*' is present, must not specify \(entry)")
                )
            }
            if wildcardResources.contains(subresource) {
                errors.append(
                    .invalid(
                        "\(path)[\(index)]", .string(entry),
                        "if '*/\(subresource)' is present, must not specify \(entry)"))
            }
            if subresource == "*" { wildcardSubresources.insert(resource) }
            if resource == "*" { wildcardResources.insert(subresource) }
        }
        if resources.count > 1, resources.contains("*/*") {
            errors.append(.invalid(path, json ?? .null, "if '*/*' is present, must not specify other resources"))
        }
        if resources.contains("*"), hasResourceWithoutSubresource {
            errors.append(
                .invalid(
                    path, json ?? .null, "if '*' is present, must not specify other resources without subresources"))
        }
        return errors
    }

    /// Upstream's defaults for a MatchResources: Equivalent, empty selectors, and `*` scope on each rule.
    static func defaultMatchResources(_ json: inout JSON) {
        if json["matchPolicy"] == nil { json["matchPolicy"] = "Equivalent" }
        for field in ["namespaceSelector", "objectSelector"] where json[field] == nil {
            json[field] = .object(JSONObject())
        }
        for field in ["resourceRules", "excludeResourceRules"] {
            guard var rules = json[field]?.arrayValue else { continue }
            for index in rules.indices where rules[index]["scope"] == nil { rules[index]["scope"] = "*" }
            json[field] = .array(rules)
        }
    }
}

import APIMachinery

/// The parts of upstream's flowcontrol validation the two kinds share: a FlowSchema's rules (subjects,
/// resource and non-resource rules) and status conditions, with upstream's messages.
enum FlowControlValidation {
    static let subjectKinds = ["Group", "ServiceAccount", "User"]

    /// One `PolicyRulesWithSubjects`.
    static func rule(_ rule: JSON, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let subjects = rule["subjects"]?.arrayValue ?? []
        if subjects.isEmpty {
            errors.append(.required(path + ".subjects", "subjects must contain at least one value"))
        }
        for (index, subject) in subjects.enumerated() {
            errors += self.subject(subject, path: "\(path).subjects[\(index)]")
        }
        let resourceRules = rule["resourceRules"]?.arrayValue ?? []
        let nonResourceRules = rule["nonResourceRules"]?.arrayValue ?? []
        if resourceRules.isEmpty && nonResourceRules.isEmpty {
            errors.append(.required(path, "at least one of resourceRules and nonResourceRules has to be non-empty"))
        }
        for (index, resourceRule) in resourceRules.enumerated() {
            errors += self.resourceRule(resourceRule, path: "\(path).resourceRules[\(index)]")
        }
        for (index, nonResourceRule) in nonResourceRules.enumerated() {
            errors += self.nonResourceRule(nonResourceRule, path: "\(path).nonResourceRules[\(index)]")
        }
        return errors
    }

    static func subject(_ subject: JSON, path: String) -> [FieldError] {
        let kind = subject["kind"] ?? .null
        let members = ["User": "user", "Group": "group", "ServiceAccount": "serviceAccount"]
        guard let kindName = kind.stringValue, let member = members[kindName] else {
            return [.notSupported(path + ".kind", kind, subjectKinds)]
        }
        var errors: [FieldError] = []
        if let value = subject[member] {
            let name = value["name"]?.stringValue ?? ""
            if name.isEmpty {
                errors.append(.required("\(path).\(member).name", ""))
            } else if kindName == "ServiceAccount", name != "*" {
                errors += NameValidation.dns1123Subdomain(name).map {
                    .invalid("\(path).\(member).name", .string(name), $0)
                }
            }
            if kindName == "ServiceAccount" {
                let namespace = value["namespace"]?.stringValue ?? ""
                if namespace.isEmpty {
                    errors.append(
                        .required("\(path).serviceAccount.namespace", "must specify namespace for service account"))
                } else {
                    errors += NameValidation.dns1123Label(namespace).map {
                        .invalid("\(path).serviceAccount.namespace", .string(namespace), $0)
                    }
                }
            }
        } else {
            errors.append(.required("\(path).\(member)", "\(member) is required when subject kind is '\(kindName)'"))
        }
        // Upstream checks the other members in this order: serviceAccount, user, group.
        for (other, otherKind) in [("serviceAccount", "ServiceAccount"), ("user", "User"), ("group", "Group")]
        where other != member && subject[other] != nil {
            errors.append(
                .forbidden("\(path).\(other)", "\(other) is forbidden when subject kind is not '\(otherKind)'"))
        }
        return errors
    }

    /// The verbs list of either rule kind: present, `*` alone, or upstream's supported verbs.
    private static func verbs(_ rule: JSON, path: String) -> [FieldError] {
        let verbs = strings(rule["verbs"])
        if verbs.isEmpty { return [.required(path + ".verbs", "verbs must contain at least one value")] }
        if verbs.contains("*") {
            return verbs.count > 1
                ? [.invalid(path + ".verbs", rule["verbs"] ?? .null, "if '*' is present, must not specify other verbs")]
                : []
        }
        if !verbs.allSatisfy(FlowSchemaStrategy.verbs.contains) {
            return [.notSupported(path + ".verbs", rule["verbs"] ?? .null, FlowSchemaStrategy.verbs)]
        }
        return []
    }

    static func resourceRule(_ rule: JSON, path: String) -> [FieldError] {
        var errors = verbs(rule, path: path)
        for (field, noun) in [("apiGroups", "api group"), ("resources", "resource")] {
            let values = strings(rule[field])
            if values.isEmpty {
                errors.append(.required("\(path).\(field)", "resource rules must supply at least one \(noun)"))
            } else if values.count > 1, values.contains("*") {
                errors.append(
                    .invalid(
                        "\(path).\(field)", rule[field] ?? .null, "if '*' is present, must not specify other \(noun)s"))
            }
        }
        let namespaces = strings(rule["namespaces"])
        if namespaces.isEmpty, rule["clusterScope"]?.boolValue != true {
            errors.append(
                .required(
                    path + ".namespaces",
                    "resource rules that are not cluster scoped must supply at least one namespace"))
        } else if namespaces.contains("*") {
            if namespaces.count > 1 {
                errors.append(
                    .invalid(
                        path + ".namespaces", rule["namespaces"] ?? .null,
                        "if '*' is present, must not specify other namespaces"))
            }
        } else {
            for (index, namespace) in namespaces.enumerated() {
                errors += NameValidation.dns1123Label(namespace).map {
                    .invalid(
                        "\(path).namespaces[\(index)]", .string(namespace),
                        "each member of this list must be '*' or a DNS-1123 label; " + $0)
                }
            }
        }
        return errors
    }

    static func nonResourceRule(_ rule: JSON, path: String) -> [FieldError] {
        var errors = verbs(rule, path: path)
        let urls = strings(rule["nonResourceURLs"])
        if urls.isEmpty {
            errors.append(.required(path + ".nonResourceURLs", "nonResourceURLs must contain at least one value"))
        } else if urls.contains("*") {
            if urls.count > 1 {
                errors.append(
                    .invalid(
                        path + ".nonResourceURLs", rule["nonResourceURLs"] ?? .null,
                        "if '*' is present, must not specify other non-resource URLs"))
            }
        } else {
            for (index, url) in urls.enumerated() {
                if let problem = urlProblem(url) {
                    errors.append(.invalid("\(path).nonResourceURLs[\(index)]", .string(url), problem))
                }
            }
        }
        return errors
    }

    /// Upstream's `ValidateNonResourceURLPath`: a leading slash, no spaces or double slashes, `/*` only as suffix.
    static func urlProblem(_ path: String) -> String? {
        if path.isEmpty { return "must not be empty" }
        if path == "/" { return nil }
        if !path.hasPrefix("/") { return "must start with slash" }
        if path.contains(" ") { return "must not contain white-space" }
        if path.contains("//") { return "must not contain double slash" }
        let wildcards = path.filter { $0 == "*" }.count
        if wildcards > 1 || (wildcards == 1 && !path.hasSuffix("/*")) { return "wildcard can only do suffix matching" }
        return nil
    }

    /// Status conditions: each needs a type, and no type twice.
    static func conditions(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        var seen: Set<String> = []
        for (index, condition) in (object["status"]?["conditions"]?.arrayValue ?? []).enumerated() {
            let type = condition["type"]?.stringValue ?? ""
            let path = "status.conditions[\(index)].type"
            if !seen.insert(type).inserted { errors.append(.duplicate(path, .string(type))) }
            if type.isEmpty { errors.append(.required(path, "must not be empty")) }
        }
        return errors
    }

    private static func strings(_ value: JSON?) -> [String] { value?.arrayValue?.compactMap(\.stringValue) ?? [] }
}

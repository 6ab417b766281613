import APIMachinery

/// Roles and ClusterRoles: upstream's rbac validation of rules and aggregation rules.
struct RoleStrategy: Strategy {
    /// True for ClusterRole: its rules may name non-resource URLs and it may aggregate.
    var clusterScoped: Bool

    var columns: [Table.Column] { [.name, Table.Column("Created At", type: "date")] }
    func cells(_ object: JSON) -> [JSON] {
        [Cells.name(object), Cells.string(object.creationTimestamp.map(JSON.string))]
    }
    func validateName(_ name: String) -> [String] { NameValidation.pathSegmentName(name) }

    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        for (index, rule) in (object["rules"]?.arrayValue ?? []).enumerated() {
            errors += Self.validate(rule: rule, namespaced: !clusterScoped, path: "rules[\(index)]")
        }
        if clusterScoped, let aggregation = object["aggregationRule"], !aggregation.isNull {
            let selectors = aggregation["clusterRoleSelectors"]?.arrayValue ?? []
            if selectors.isEmpty {
                errors.append(
                    .required(
                        "aggregationRule.clusterRoleSelectors",
                        "at least one clusterRoleSelector required if aggregationRule is non-nil"))
            }
            for (index, selector) in selectors.enumerated() {
                do {
                    _ = try LabelSelector(object: selector)
                } catch {
                    errors.append(
                        .invalid("aggregationRule.clusterRoleSelectors[\(index)]", selector, error.message))
                }
            }
        }
        return errors
    }

    /// upstream's `ValidatePolicyRule`.
    static func validate(rule: JSON, namespaced: Bool, path: String) -> [FieldError] {
        func strings(_ field: String) -> [String] { rule[field]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        var errors: [FieldError] = []
        if strings("verbs").isEmpty {
            errors.append(.required("\(path).verbs", "verbs must contain at least one value"))
        }
        let urls = strings("nonResourceURLs")
        if !urls.isEmpty {
            let value = rule["nonResourceURLs"] ?? .null
            if namespaced {
                errors.append(
                    .invalid("\(path).nonResourceURLs", value, "namespaced rules cannot apply to non-resource URLs"))
            }
            if !strings("apiGroups").isEmpty || !strings("resources").isEmpty || !strings("resourceNames").isEmpty {
                errors.append(
                    .invalid(
                        "\(path).nonResourceURLs", value,
                        "rules cannot apply to both regular resources and non-resource URLs"))
            }
            return errors
        }
        if rule["apiGroups"]?.arrayValue?.isEmpty ?? true {
            errors.append(.required("\(path).apiGroups", "resource rules must supply at least one api group"))
        }
        if strings("resources").isEmpty {
            errors.append(.required("\(path).resources", "resource rules must supply at least one resource"))
        }
        return errors
    }
}

/// RoleBindings and ClusterRoleBindings: subjects default their apiGroup and are validated as upstream,
/// and `roleRef` is immutable ("cannot change roleRef").
struct RoleBindingStrategy: Strategy {
    /// True for ClusterRoleBinding: only ClusterRoles may be bound and service accounts need a namespace.
    var clusterScoped: Bool
    static let group = "rbac.authorization.k8s.io"

    var columns: [Table.Column] { Catalog.bindingColumns }
    func cells(_ object: JSON) -> [JSON] { Catalog.bindingCells(object) }
    func validateName(_ name: String) -> [String] { NameValidation.pathSegmentName(name) }

    /// upstream's `SetDefaults_Subject`: User and Group subjects belong to the rbac group. A ServiceAccount's is
    /// the core group, "", which upstream's answers leave out.
    func applyDefaults(_ object: inout JSON) {
        guard var subjects = object["subjects"]?.arrayValue else { return }
        for index in subjects.indices where subjects[index]["apiGroup"] == nil {
            switch subjects[index]["kind"]?.stringValue {
            case "User", "Group": subjects[index]["apiGroup"] = .string(Self.group)
            default: break
            }
        }
        object["subjects"] = .array(subjects)
    }

    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        let roleRef = object["roleRef"]
        let apiGroup = roleRef?["apiGroup"]?.stringValue ?? ""
        if apiGroup != Self.group {
            errors.append(.notSupported("roleRef.apiGroup", .string(apiGroup), [Self.group]))
        }
        let kind = roleRef?["kind"]?.stringValue ?? ""
        let kinds = clusterScoped ? ["ClusterRole"] : ["Role", "ClusterRole"]
        if !kinds.contains(kind) { errors.append(.notSupported("roleRef.kind", .string(kind), kinds)) }
        let name = roleRef?["name"]?.stringValue ?? ""
        if name.isEmpty {
            errors.append(.required("roleRef.name", ""))
        } else {
            for problem in NameValidation.pathSegmentName(name) {
                errors.append(.invalid("roleRef.name", .string(name), problem))
            }
        }
        for (index, subject) in (object["subjects"]?.arrayValue ?? []).enumerated() {
            errors += validate(subject: subject, path: "subjects[\(index)]")
        }
        return errors
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        if let roleRef = object["roleRef"], roleRef != old["roleRef"] {
            errors.append(.invalid("roleRef", roleRef, "cannot change roleRef"))
        }
        return errors
    }

    /// upstream's `ValidateRoleBindingSubject`.
    func validate(subject: JSON, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let name = subject["name"]?.stringValue ?? ""
        let apiGroup = subject["apiGroup"]?.stringValue ?? ""
        if name.isEmpty { errors.append(.required("\(path).name", "")) }
        switch subject["kind"]?.stringValue ?? "" {
        case "ServiceAccount":
            if !name.isEmpty {
                for problem in NameValidation.dns1123Subdomain(name) {
                    errors.append(.invalid("\(path).name", .string(name), problem))
                }
            }
            if !apiGroup.isEmpty { errors.append(.notSupported("\(path).apiGroup", .string(apiGroup), [""])) }
            if clusterScoped, (subject["namespace"]?.stringValue ?? "").isEmpty {
                errors.append(.required("\(path).namespace", ""))
            }
        case "User", "Group":
            if apiGroup != Self.group {
                errors.append(.notSupported("\(path).apiGroup", .string(apiGroup), [Self.group]))
            }
        case let kind:
            errors.append(.notSupported("\(path).kind", .string(kind), ["ServiceAccount", "User", "Group"]))
        }
        return errors
    }
}

import APIMachinery
import StructuralSchema

/// Upstream's apiextensions validation of a CustomResourceDefinition (v1), with its field paths and messages.
/// The structural checks of each version's schema are the `StructuralSchema` module's, reported as it words them.
enum CustomResourceDefinitionValidation {
    static func validate(_ object: JSON) -> [FieldError] {
        let view = CustomResourceDefinitionView(object)
        var errors: [FieldError] = []
        let plural = view.names["plural"]?.stringValue ?? ""
        if let name = object.name, !name.isEmpty, name != "\(plural).\(view.group)" {
            errors.append(.invalid("metadata.name", .string(name), "must be spec.names.plural+\".\"+spec.group"))
        }
        errors += validateSpec(view.spec)
        errors += validateNames(view.acceptedNames, path: "status.acceptedNames")
        errors += validateStoredVersions(view)
        return errors
    }

    static func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        let new = CustomResourceDefinitionView(object)
        let previous = CustomResourceDefinitionView(old)
        func immutable(_ path: String, _ value: JSON?, _ oldValue: JSON?) {
            if value != oldValue { errors.append(.invalid(path, value ?? "", "field is immutable")) }
        }
        if previous.isEstablished {
            // Scope and kind decide how objects are stored and read back, so they stay once served.
            immutable("spec.scope", new.spec["scope"], previous.spec["scope"])
            immutable("spec.names.kind", new.names["kind"], previous.names["kind"])
        }
        immutable("spec.group", new.spec["group"], previous.spec["group"])
        immutable("spec.names.plural", new.names["plural"], previous.names["plural"])
        return errors
    }

    static func validateSpec(_ spec: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        let group = spec["group"]?.stringValue ?? ""
        if group.isEmpty {
            errors.append(.required("spec.group"))
        } else if case let problems = NameValidation.dns1123Subdomain(group), !problems.isEmpty {
            errors.append(.invalid("spec.group", .string(group), problems.joined(separator: ",")))
        } else if !group.contains(".") {
            errors.append(.invalid("spec.group", .string(group), "should be a domain with at least one dot"))
        }
        errors += enumString("spec.scope", spec["scope"], ["Cluster", "Namespaced"])

        let versions = spec["versions"]?.arrayValue ?? []
        var seen = Set<String>()
        var unique = true
        var storageCount = 0
        for (index, version) in versions.enumerated() {
            let path = "spec.versions[\(index)]"
            let name = version["name"]?.stringValue ?? ""
            if version["storage"]?.boolValue == true { storageCount += 1 }
            if !seen.insert(name).inserted { unique = false }
            if case let problems = NameValidation.dns1035Label(name), !problems.isEmpty {
                errors.append(.invalid("\(path).name", .string(name), problems.joined(separator: ",")))
            }
            if let schema = version["schema"]?["openAPIV3Schema"] {
                errors += StructuralSchema.check(openAPIV3Schema: schema, fieldPath: "\(path).schema.openAPIV3Schema")
            } else {
                errors.append(.required("\(path).schema.openAPIV3Schema", "schemas are required"))
            }
            errors += validateSubresources(version["subresources"], path: "\(path).subresources")
            for (column, definition) in (version["additionalPrinterColumns"]?.arrayValue ?? []).enumerated() {
                errors += validateColumn(definition, path: "\(path).additionalPrinterColumns[\(column)]")
            }
        }
        if !unique {
            errors.append(.invalid("spec.versions", spec["versions"] ?? .null, "must contain unique version names"))
        }
        if storageCount != 1 {
            errors.append(
                .invalid(
                    "spec.versions", spec["versions"] ?? .array([]),
                    "must have exactly one version marked as storage version"))
        }
        let names = spec["names"] ?? .null
        for field in ["plural", "singular", "kind", "listKind"] where (names[field]?.stringValue ?? "").isEmpty {
            errors.append(.required("spec.names.\(field)"))
        }
        errors += validateNames(names, path: "spec.names")
        errors += validateConversion(spec["conversion"])
        return errors
    }

    /// The names rules upstream applies to both `spec.names` and `status.acceptedNames`.
    static func validateNames(_ names: JSON, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        func label(_ field: String, lowercased: Bool) {
            guard let value = names[field]?.stringValue, !value.isEmpty else { return }
            let problems = NameValidation.dns1035Label(lowercased ? value.lowercased() : value)
            guard !problems.isEmpty else { return }
            let detail = problems.joined(separator: ",")
            errors.append(
                .invalid(
                    "\(path).\(field)", .string(value),
                    lowercased ? "may have mixed case, but should otherwise match: " + detail : detail))
        }
        label("plural", lowercased: false)
        label("singular", lowercased: false)
        label("kind", lowercased: true)
        label("listKind", lowercased: true)
        for (index, shortName) in (names["shortNames"]?.arrayValue ?? []).enumerated() {
            let value = shortName.stringValue ?? ""
            let problems = NameValidation.dns1035Label(value)
            if !problems.isEmpty {
                errors.append(
                    .invalid("\(path).shortNames[\(index)]", .string(value), problems.joined(separator: ",")))
            }
        }
        if let kind = names["kind"]?.stringValue, !kind.isEmpty, kind == names["listKind"]?.stringValue {
            errors.append(.invalid("\(path).listKind", .string(kind), "kind and listKind may not be the same"))
        }
        for (index, category) in (names["categories"]?.arrayValue ?? []).enumerated() {
            let value = category.stringValue ?? ""
            let problems = NameValidation.dns1035Label(value)
            if !problems.isEmpty {
                errors.append(
                    .invalid("\(path).categories[\(index)]", .string(value), problems.joined(separator: ",")))
            }
        }
        return errors
    }

    static func validateSubresources(_ subresources: JSON?, path: String) -> [FieldError] {
        guard let scale = subresources?["scale"] else { return [] }
        var errors: [FieldError] = []
        let specPath = scale["specReplicasPath"]?.stringValue ?? ""
        let statusPath = scale["statusReplicasPath"]?.stringValue ?? ""
        if specPath.isEmpty {
            errors.append(.required("\(path).scale.specReplicasPath", ""))
        } else if !specPath.hasPrefix(".spec.") {
            errors.append(
                .invalid("\(path).scale.specReplicasPath", .string(specPath), "should be a json path under .spec"))
        }
        if statusPath.isEmpty {
            errors.append(.required("\(path).scale.statusReplicasPath", ""))
        } else if !statusPath.hasPrefix(".status.") {
            errors.append(
                .invalid(
                    "\(path).scale.statusReplicasPath", .string(statusPath), "should be a json path under .status"))
        }
        if let selector = scale["labelSelectorPath"]?.stringValue, !selector.isEmpty,
            !selector.hasPrefix(".spec."), !selector.hasPrefix(".status.")
        {
            errors.append(
                .invalid(
                    "\(path).scale.labelSelectorPath", .string(selector),
                    "should be a json path under either .spec or .status"))
        }
        return errors
    }

    static func validateColumn(_ column: JSON, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        if (column["name"]?.stringValue ?? "").isEmpty { errors.append(.required("\(path).name")) }
        let type = column["type"]?.stringValue ?? ""
        if type.isEmpty {
            errors.append(.required("\(path).type"))
        } else if !CustomResourceColumns.types.contains(type) {
            errors.append(.notSupported("\(path).type", .string(type), CustomResourceColumns.types))
        }
        if let format = column["format"]?.stringValue, !format.isEmpty,
            !CustomResourceColumns.formats.contains(format)
        {
            errors.append(.notSupported("\(path).format", .string(format), CustomResourceColumns.formats))
        }
        if (column["jsonPath"]?.stringValue ?? "").isEmpty { errors.append(.required("\(path).jsonPath")) }
        if let priority = column["priority"]?.intValue, priority < 0 {
            errors.append(.invalid("\(path).priority", .int(priority), "must be greater than or equal to 0"))
        }
        return errors
    }

    /// Conversion strategy `None` only: webhook conversion is refused outright rather than half-served.
    static func validateConversion(_ conversion: JSON?) -> [FieldError] {
        guard let conversion, !conversion.isNull else { return [] }
        let strategy = conversion["strategy"]
        var errors = enumString("spec.conversion.strategy", strategy, ["None", "Webhook"])
        if strategy?.stringValue == "Webhook" {
            errors.append(
                .forbidden(
                    "spec.conversion.strategy",
                    "webhook conversion is not supported by this API server; use strategy None"))
        } else if conversion["webhook"] != nil || conversion["webhookClientConfig"] != nil {
            errors.append(
                .forbidden("spec.conversion.webhook", "should not be set when strategy is not set to Webhook"))
        }
        return errors
    }

    /// `status.storedVersions` must name the storage version and only versions the spec still lists.
    static func validateStoredVersions(_ view: CustomResourceDefinitionView) -> [FieldError] {
        let stored = view.storedVersions
        guard !stored.isEmpty else {
            return [.invalid("status.storedVersions", .array([]), "must have at least one stored version")]
        }
        var errors: [FieldError] = []
        var remaining = stored
        for version in view.versions {
            let name = version["name"]?.stringValue ?? ""
            if version["storage"]?.boolValue == true, !stored.contains(name) {
                errors.append(.invalid("status.storedVersions", version, "must have the storage version \(name)"))
            }
            remaining.removeAll { $0 == name }
        }
        for name in remaining {
            let index = stored.firstIndex(of: name) ?? 0
            errors.append(.invalid("status.storedVersions[\(index)]", .string(name), "must appear in spec.versions"))
        }
        return errors
    }

    static func enumString(_ path: String, _ value: JSON?, _ accepted: [String]) -> [FieldError] {
        let text = value?.stringValue ?? ""
        if text.isEmpty { return [.required(path)] }
        return accepted.contains(text) ? [] : [.notSupported(path, .string(text), accepted)]
    }
}

import APIMachinery

/// `apiVersion`, `kind` and `metadata` of resources embedded with `x-kubernetes-embedded-resource` (upstream's
/// `objectmeta.Validate`); the custom resource's own are the server's to check.
enum EmbeddedResources {
    static func validate(_ value: JSON, against root: SchemaNode) -> [FieldError] {
        walk(value, root, path: "", isRoot: true)
    }

    private static func walk(_ value: JSON, _ schema: SchemaNode?, path: String, isRoot: Bool) -> [FieldError] {
        guard let schema else { return [] }
        switch value {
        case .object(let object):
            var errors: [FieldError] = []
            if schema.embeddedResource && !isRoot { errors += embedded(object, path: path) }
            for (key, member) in object {
                if let property = schema.property(key) {
                    errors += walk(member, property, path: Path.child(path, key), isRoot: false)
                } else if let additional = schema.additionalPropertiesSchema {
                    errors += walk(member, additional, path: Path.key(path, key), isRoot: false)
                }
            }
            return errors
        case .array(let array):
            return array.enumerated().flatMap { walk($1, schema.items, path: Path.index(path, $0), isRoot: false) }
        default:
            return []
        }
    }

    private static func embedded(_ object: JSONObject, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        if object["apiVersion"] == nil { errors.append(.required(Path.child(path, "apiVersion"))) }
        if object["kind"] == nil { errors.append(.required(Path.child(path, "kind"))) }
        for (key, value) in object {
            let keyPath = Path.child(path, key)
            switch key {
            case "apiVersion":
                guard let apiVersion = value.stringValue else {
                    errors.append(.invalid(keyPath, value, "must be a string"))
                    continue
                }
                if apiVersion.isEmpty {
                    errors.append(.invalid(keyPath, value, "must not be empty"))
                } else if apiVersion.split(separator: "/", omittingEmptySubsequences: false).count > 2 {
                    errors.append(.invalid(keyPath, value, "unexpected GroupVersion string: \(apiVersion)"))
                }
            case "kind":
                guard let kind = value.stringValue else {
                    errors.append(.invalid(keyPath, value, "must be a string"))
                    continue
                }
                let problems = NameValidation.dns1035Label(kind.lowercased())
                if kind.isEmpty {
                    errors.append(.invalid(keyPath, value, "must not be empty"))
                } else if !problems.isEmpty {
                    errors.append(
                        .invalid(
                            keyPath, value,
                            "may have mixed case, but should otherwise match: " + problems.joined(separator: ",")))
                }
            case "metadata":
                errors += metadata(value, path: keyPath)
            default:
                break
            }
        }
        return errors
    }

    /// The parts of ObjectMeta validation an embedded object can get wrong: its name, namespace and labels.
    private static func metadata(_ value: JSON, path: String) -> [FieldError] {
        guard let object = value.objectValue else {
            return [.invalid(path, value, "must be an object")]
        }
        var errors: [FieldError] = []
        if let name = object["name"]?.stringValue, !name.isEmpty {
            for problem in NameValidation.pathSegmentName(name) {
                errors.append(.invalid(Path.child(path, "name"), .string(name), problem))
            }
        }
        if let namespace = object["namespace"]?.stringValue, !namespace.isEmpty {
            for problem in NameValidation.dns1123Label(namespace) {
                errors.append(.invalid(Path.child(path, "namespace"), .string(namespace), problem))
            }
        }
        for (key, label) in object["labels"]?.objectValue ?? JSONObject() {
            for problem in NameValidation.qualifiedName(key) {
                errors.append(.invalid(Path.child(path, "labels"), .string(key), problem))
            }
            for problem in NameValidation.labelValue(label.stringValue ?? "") {
                errors.append(.invalid(Path.key(Path.child(path, "labels"), key), label, problem))
            }
        }
        return errors
    }
}

import APIMachinery

extension StructuralCheck {
    /// allOf, anyOf, oneOf and not may only restrict values; what a value is (type, defaults, extensions)
    /// belongs to the skeleton, so pruning and defaulting never depend on which branch matched.
    static func valueValidation(
        _ schema: JSONObject, skipAnyOf: Bool, skipFirstAllOfAnyOf: Bool, at path: String
    ) -> [FieldError] {
        var errors: [FieldError] = []
        if !skipAnyOf {
            for (index, member) in (schema["anyOf"]?.arrayValue ?? []).enumerated() {
                errors += nested(member, skipAnyOf: false, at: Path.index(Path.child(path, "anyOf"), index))
            }
        }
        for (index, member) in (schema["allOf"]?.arrayValue ?? []).enumerated() {
            errors += nested(
                member, skipAnyOf: skipFirstAllOfAnyOf && index == 0, at: Path.index(Path.child(path, "allOf"), index))
        }
        for (index, member) in (schema["oneOf"]?.arrayValue ?? []).enumerated() {
            errors += nested(member, skipAnyOf: false, at: Path.index(Path.child(path, "oneOf"), index))
        }
        if let not = schema["not"] { errors += nested(not, skipAnyOf: false, at: Path.child(path, "not")) }
        if let pattern = schema["pattern"]?.stringValue, CompiledPattern(pattern) == nil {
            errors.append(
                .invalid(
                    Path.child(path, "pattern"), .string(pattern),
                    "must be a valid regular expression, but isn't: error parsing regexp: invalid pattern: `\(pattern)`"
                ))
        }
        return errors
    }

    private static func nested(_ json: JSON, skipAnyOf: Bool, at path: String) -> [FieldError] {
        guard let schema = json.objectValue else { return [] }
        var errors = valueValidation(schema, skipAnyOf: skipAnyOf, skipFirstAllOfAnyOf: false, at: path)
        if let items = schema["items"] { errors += nested(items, skipAnyOf: false, at: Path.child(path, "items")) }
        let properties = schema["properties"]?.objectValue ?? JSONObject()
        for (name, property) in properties {
            errors += nested(property, skipAnyOf: false, at: Path.key(Path.child(path, "properties"), name))
        }
        func forbid(_ key: String, _ detail: String) { errors.append(.forbidden(Path.child(path, key), detail)) }
        if !(schema["type"]?.stringValue ?? "").isEmpty { forbid("type", "must be empty to be structural") }
        if schema["additionalProperties"] != nil {
            forbid("additionalProperties", "must be undefined to be structural")
        }
        if schema["default"] != nil && schema["default"] != .null {
            forbid("default", "must be undefined to be structural")
        }
        if !(schema["title"]?.stringValue ?? "").isEmpty { forbid("title", "must be empty to be structural") }
        if !(schema["description"]?.stringValue ?? "").isEmpty {
            forbid("description", "must be empty to be structural")
        }
        if schema["nullable"]?.boolValue == true { forbid("nullable", "must be false to be structural") }
        for key in [
            "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string",
        ]
        where schema[key]?.boolValue == true {
            forbid(key, "must be false to be structural")
        }
        if !(schema["x-kubernetes-list-map-keys"]?.arrayValue ?? []).isEmpty {
            forbid("x-kubernetes-list-map-keys", "must be empty to be structural")
        }
        if schema["x-kubernetes-list-type"] != nil {
            forbid("x-kubernetes-list-type", "must be undefined to be structural")
        }
        if schema["x-kubernetes-map-type"] != nil {
            forbid("x-kubernetes-map-type", "must be undefined to be structural")
        }
        if !(schema["x-kubernetes-validations"]?.arrayValue ?? []).isEmpty {
            forbid("x-kubernetes-validations", "must be empty to be structural")
        }
        if properties["metadata"] != nil {
            errors.append(
                .forbidden(
                    Path.key(Path.child(path, "properties"), "metadata"), "must not be specified in a nested context"))
        }
        return errors
    }

    // MARK: Completeness

    /// Every field a value validation names must exist in the skeleton, or pruning would drop what validation
    /// speaks about. Upstream checks the root's value validations.
    static func valueValidationCompleteness(
        _ validation: JSONObject, skeleton: JSONObject?, skeletonPath: String, valuePath: String
    ) -> [FieldError] {
        var errors: [FieldError] = []
        if let not = validation["not"]?.objectValue {
            errors += nestedCompleteness(not, skeleton: skeleton, skeletonPath, Path.child(valuePath, "not"))
        }
        for keyword in ["allOf", "anyOf", "oneOf"] {
            for (index, member) in (validation[keyword]?.arrayValue ?? []).enumerated() {
                guard let member = member.objectValue else { continue }
                errors += nestedCompleteness(
                    member, skeleton: skeleton, skeletonPath, Path.index(Path.child(valuePath, keyword), index))
            }
        }
        return errors
    }

    private static func nestedCompleteness(
        _ validation: JSONObject, skeleton: JSONObject?, _ skeletonPath: String, _ valuePath: String
    ) -> [FieldError] {
        guard let skeleton else { return [.required(skeletonPath, "because it is defined in " + valuePath)] }
        var errors = valueValidationCompleteness(
            validation, skeleton: skeleton, skeletonPath: skeletonPath, valuePath: valuePath)
        if let items = validation["items"]?.objectValue {
            errors += nestedCompleteness(
                items, skeleton: skeleton["items"]?.objectValue, Path.child(skeletonPath, "items"),
                Path.child(valuePath, "items"))
        }
        for (name, property) in validation["properties"]?.objectValue ?? JSONObject() {
            guard let property = property.objectValue else { continue }
            let skeletonProperty = Path.key(Path.child(skeletonPath, "properties"), name)
            let valueProperty = Path.key(Path.child(valuePath, "properties"), name)
            if let known = skeleton["properties"]?[name]?.objectValue {
                errors += nestedCompleteness(property, skeleton: known, skeletonProperty, valueProperty)
            } else {
                errors.append(.required(skeletonProperty, "because it is defined in " + valueProperty))
            }
        }
        return errors
    }
}

/// Keywords of the wrong JSON type, which upstream's decoder refuses before any rule runs.
enum Shape {
    private static let strings = [
        "type", "format", "pattern", "title", "description", "id", "$ref", "$schema",
        "x-kubernetes-list-type", "x-kubernetes-map-type",
    ]
    private static let bools = [
        "nullable", "uniqueItems", "exclusiveMaximum", "exclusiveMinimum",
        "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string",
    ]
    private static let numbers = ["maximum", "minimum", "multipleOf"]
    private static let integers = ["maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minProperties"]
    private static let schemaMaps = ["properties", "definitions", "patternProperties"]
    private static let schemaLists = ["allOf", "anyOf", "oneOf"]

    static func check(_ schema: JSONObject, at path: String) -> [FieldError] {
        var errors: [FieldError] = []
        for (key, value) in schema {
            let keyPath = Path.child(path, key)
            func wrong(_ what: String) { errors.append(.invalid(keyPath, value, "must be " + what)) }
            if strings.contains(key), value.stringValue == nil { wrong("a string") }
            if bools.contains(key), value.boolValue == nil { wrong("a boolean") }
            if numbers.contains(key), value.doubleValue == nil { wrong("a number") }
            if integers.contains(key), value.intValue == nil { wrong("an integer") }
            if key == "required" || key == "x-kubernetes-list-map-keys" {
                if value.arrayValue?.allSatisfy({ $0.stringValue != nil }) != true { wrong("a list of strings") }
            }
            if key == "enum" && value.arrayValue == nil { wrong("a list") }
            if key == "x-kubernetes-validations" {
                if value.arrayValue?.allSatisfy({ $0.objectValue != nil }) != true { wrong("a list of rules") }
            }
            if schemaMaps.contains(key) {
                guard let members = value.objectValue else {
                    wrong("an object")
                    continue
                }
                for (name, member) in members {
                    errors += nested(member, at: Path.key(keyPath, name))
                }
            }
            if schemaLists.contains(key) {
                guard let members = value.arrayValue else {
                    wrong("a list of schemas")
                    continue
                }
                for (index, member) in members.enumerated() { errors += nested(member, at: Path.index(keyPath, index)) }
            }
            if key == "not" { errors += nested(value, at: keyPath) }
            if key == "items" {
                switch value {
                case .object(let object): errors += check(object, at: keyPath)
                case .array(let members):
                    for (index, member) in members.enumerated() {
                        errors += nested(member, at: Path.index(keyPath, index))
                    }
                default: wrong("a schema or a list of schemas")
                }
            }
            if key == "additionalProperties" {
                switch value {
                case .bool: break
                case .object(let object): errors += check(object, at: keyPath)
                default: wrong("a boolean or a schema")
                }
            }
        }
        return errors
    }

    private static func nested(_ value: JSON, at path: String) -> [FieldError] {
        guard let object = value.objectValue else { return [.invalid(path, value, "must be a schema object")] }
        return check(object, at: path)
    }
}

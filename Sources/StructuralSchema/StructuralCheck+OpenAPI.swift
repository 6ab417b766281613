import APIMachinery

/// The OpenAPI restrictions a CRD schema obeys everywhere, nested schemas included (upstream's
/// `ValidateCustomResourceDefinitionOpenAPISchema` with `specStandardValidatorV3`).
struct OpenAPIRules {
    static let types = ["array", "boolean", "integer", "number", "object", "string"]
    static let reasons = ["FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"]
    static let metaFields: Set<String> = ["apiVersion", "kind", "metadata"]

    /// Why `default` may not appear here, when it may not.
    var forbiddenDefaultsReason: String?
    var insideResourceMeta = false
    /// The schema path above which old and new values stop correlating (a list that is not a map list, an
    /// atomic map), so rules below it cannot read `oldSelf`.
    var uncorrelatablePath: String?

    func validate(_ json: JSON, at path: String, isRoot: Bool) -> [FieldError] {
        guard let schema = json.objectValue else { return [] }
        var errors = node(schema, at: path)
        let type = schema["type"]?.stringValue ?? ""
        if schema["uniqueItems"]?.boolValue == true {
            errors.append(
                .forbidden(
                    Path.child(path, "uniqueItems"),
                    "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"))
        }
        let properties = schema["properties"]?.objectValue ?? JSONObject()
        if let additional = schema["additionalProperties"] {
            if !properties.isEmpty && additional != .bool(true) {
                errors.append(
                    .forbidden(
                        Path.child(path, "additionalProperties"),
                        "additionalProperties and properties are mutual exclusive"))
            }
            var sub = self
            if insideResourceMeta {
                sub.forbiddenDefaultsReason = "inside additionalProperties applying to object metadata"
            }
            errors += sub.validate(additional, at: Path.child(path, "additionalProperties"), isRoot: false)
        }
        let embedded = schema["x-kubernetes-embedded-resource"]?.boolValue == true
        for (name, property) in properties {
            var sub = self
            if schema["x-kubernetes-map-type"]?.stringValue == "atomic" && sub.uncorrelatablePath == nil {
                sub.uncorrelatablePath = path
            }
            if (isRoot || embedded) && Self.metaFields.contains(name) {
                sub.insideResourceMeta = true
                if isRoot { sub.forbiddenDefaultsReason = "in top-level \(name)" }
            }
            errors += sub.validate(property, at: Path.key(Path.child(path, "properties"), name), isRoot: false)
        }
        if let not = schema["not"] { errors += validate(not, at: Path.child(path, "not"), isRoot: false) }
        for keyword in ["allOf", "oneOf", "anyOf"] {
            for (index, member) in (schema[keyword]?.arrayValue ?? []).enumerated() {
                errors += validate(member, at: Path.index(Path.child(path, keyword), index), isRoot: false)
            }
        }
        for (name, definition) in schema["definitions"]?.objectValue ?? JSONObject() {
            errors += validate(definition, at: Path.key(Path.child(path, "definitions"), name), isRoot: false)
        }
        var itemRules = self
        if schema["x-kubernetes-list-type"]?.stringValue != "map" && itemRules.uncorrelatablePath == nil {
            itemRules.uncorrelatablePath = path
        }
        switch schema["items"] {
        case .object:
            errors += itemRules.validate(schema["items"] ?? .null, at: Path.child(path, "items"), isRoot: false)
        case .array(let members):
            for (index, member) in members.enumerated() {
                errors += itemRules.validate(member, at: Path.index(Path.child(path, "items"), index), isRoot: false)
            }
        default: break
        }
        if schema["x-kubernetes-preserve-unknown-fields"] == .bool(false) {
            errors.append(
                .invalid(Path.child(path, "x-kubernetes-preserve-unknown-fields"), false, "must be true or undefined"))
        }
        errors += mapAndListTypes(schema, type: type, at: path)
        errors += rules(schema, at: path)
        return errors
    }

    /// The checks `specStandardValidatorV3.validate` makes on every node.
    private func node(_ schema: JSONObject, at path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let type = schema["type"]?.stringValue ?? ""
        if !type.isEmpty && !Self.types.contains(type) {
            errors.append(.notSupported(Path.child(path, "type"), .string(type), Self.types))
        }
        if schema["default"] != nil, let reason = forbiddenDefaultsReason {
            errors.append(.forbidden(Path.child(path, "default"), "must not be set " + reason))
        }
        if let id = schema["id"]?.stringValue, !id.isEmpty {
            errors.append(.forbidden(Path.child(path, "id"), "id is not supported"))
        }
        if schema["additionalItems"] != nil {
            errors.append(.forbidden(Path.child(path, "additionalItems"), "additionalItems is not supported"))
        }
        if let patterns = schema["patternProperties"]?.objectValue, !patterns.isEmpty {
            errors.append(.forbidden(Path.child(path, "patternProperties"), "patternProperties is not supported"))
        }
        if let definitions = schema["definitions"]?.objectValue, !definitions.isEmpty {
            errors.append(.forbidden(Path.child(path, "definitions"), "definitions is not supported"))
        }
        if schema["dependencies"] != nil {
            errors.append(.forbidden(Path.child(path, "dependencies"), "dependencies is not supported"))
        }
        if schema["$ref"] != nil {
            errors.append(.forbidden(Path.child(path, "$ref"), "$ref is not supported"))
        }
        if type == "null" {
            errors.append(
                .forbidden(Path.child(path, "type"), "type cannot be set to null, use nullable as an alternative"))
        }
        if let items = schema["items"]?.arrayValue, !items.isEmpty {
            errors.append(.forbidden(Path.child(path, "items"), "items must be a schema object and not an array"))
        }
        if insideResourceMeta && schema["x-kubernetes-embedded-resource"]?.boolValue == true {
            errors.append(
                .forbidden(
                    Path.child(path, "x-kubernetes-embedded-resource"), "must not be used inside of resource meta"))
        }
        return errors
    }

    private func mapAndListTypes(_ schema: JSONObject, type: String, at path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let typePath = Path.child(path, "type")
        if let mapType = schema["x-kubernetes-map-type"]?.stringValue {
            if type.isEmpty {
                errors.append(.required(typePath, "must be object if x-kubernetes-map-type is specified"))
            } else if type != "object" {
                errors.append(.invalid(typePath, .string(type), "must be object if x-kubernetes-map-type is specified"))
            }
            if mapType != "atomic" && mapType != "granular" {
                errors.append(
                    .notSupported(Path.child(path, "x-kubernetes-map-type"), .string(mapType), ["atomic", "granular"]))
            }
        }
        let listType = schema["x-kubernetes-list-type"]?.stringValue
        let listTypePath = Path.child(path, "x-kubernetes-list-type")
        if listType != nil && type != "array" {
            if type.isEmpty {
                errors.append(.required(typePath, "must be array if x-kubernetes-list-type is specified"))
            } else {
                errors.append(.invalid(typePath, .string(type), "must be array if x-kubernetes-list-type is specified"))
            }
        }
        if let listType, !["atomic", "set", "map"].contains(listType) {
            errors.append(.notSupported(listTypePath, .string(listType), ["atomic", "set", "map"]))
        }
        let keysJSON = schema["x-kubernetes-list-map-keys"] ?? .array([])
        let keys = keysJSON.arrayValue?.compactMap(\.stringValue) ?? []
        let keysPath = Path.child(path, "x-kubernetes-list-map-keys")
        if !keys.isEmpty {
            if listType == nil {
                errors.append(.required(listTypePath, "must be map if x-kubernetes-list-map-keys is non-empty"))
            } else if let listType, listType != "map" {
                errors.append(
                    .invalid(listTypePath, .string(listType), "must be map if x-kubernetes-list-map-keys is non-empty"))
            }
        }
        let items = schema["items"]?.objectValue
        let itemsPath = Path.child(path, "items")
        if listType == "map" {
            if keys.isEmpty {
                errors.append(.required(keysPath, "must not be empty if x-kubernetes-list-type is map"))
            }
            if schema["items"] == nil {
                errors.append(.required(itemsPath, "must have a schema if x-kubernetes-list-type is map"))
            } else if items == nil {
                errors.append(
                    .invalid(
                        itemsPath, schema["items"] ?? .null,
                        "must only have a single schema if x-kubernetes-list-type is map"))
            }
            if let items {
                let itemType = items["type"]?.stringValue ?? ""
                if itemType != "object" {
                    errors.append(
                        .invalid(
                            Path.child(itemsPath, "type"), .string(itemType),
                            "must be object if parent array's x-kubernetes-list-type is map"))
                } else {
                    var seen: Set<String> = []
                    for key in keys {
                        if let property = items["properties"]?[key] {
                            let keyType = property["type"]?.stringValue ?? ""
                            if keyType == "array" || keyType == "object" {
                                errors.append(
                                    .invalid(
                                        Path.child(Path.key(Path.child(itemsPath, "properties"), key), "type"),
                                        .string(itemType),
                                        "must be a scalar type if parent array's x-kubernetes-list-type is map"))
                            }
                        } else {
                            errors.append(.invalid(keysPath, keysJSON, "entries must all be names of item properties"))
                        }
                        if !seen.insert(key).inserted {
                            errors.append(.invalid(keysPath, keysJSON, "must not contain duplicate entries"))
                        }
                    }
                }
            }
        }
        if let listType, listType == "set" || listType == "map", let items {
            if items["nullable"]?.boolValue == true {
                errors.append(
                    .forbidden(
                        Path.child(itemsPath, "nullable"),
                        "cannot be nullable when x-kubernetes-list-type is " + listType))
            }
            if listType == "map" {
                let required = Set(items["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                for key in keys {
                    guard let property = items["properties"]?[key] else { continue }
                    let propertyPath = Path.key(Path.child(itemsPath, "properties"), key)
                    if !required.contains(key) && property["default"] == nil {
                        errors.append(
                            .required(
                                Path.child(propertyPath, "default"),
                                "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"
                            ))
                    }
                    if property["nullable"]?.boolValue == true {
                        errors.append(
                            .forbidden(
                                Path.child(propertyPath, "nullable"),
                                "this property is in x-kubernetes-list-map-keys, so it cannot be nullable"))
                    }
                }
            }
        }
        return errors
    }

    private func rules(_ schema: JSONObject, at path: String) -> [FieldError] {
        var errors: [FieldError] = []
        for (index, json) in (schema["x-kubernetes-validations"]?.arrayValue ?? []).enumerated() {
            guard let rule = ValidationRule(parsing: json) else { continue }
            let rulePath = Path.index(Path.child(path, "x-kubernetes-validations"), index)
            let trimmedRule = rule.rule.trimmingWhitespace
            let trimmedMessage = rule.message.trimmingWhitespace
            if trimmedRule.isEmpty {
                errors.append(.required(Path.child(rulePath, "rule"), "rule is not specified"))
            } else if !rule.message.isEmpty && trimmedMessage.isEmpty {
                errors.append(
                    .invalid(Path.child(rulePath, "message"), .string(rule.message), "must be non-empty if specified"))
            } else if trimmedMessage.contains(where: \.isNewline) {
                errors.append(
                    .invalid(Path.child(rulePath, "message"), .string(rule.message), "must not contain line breaks"))
            } else if trimmedRule.contains(where: \.isNewline) && trimmedMessage.isEmpty {
                errors.append(
                    .required(Path.child(rulePath, "message"), "message must be specified if rule contains line breaks")
                )
            }
            if !rule.messageExpression.isEmpty && rule.messageExpression.trimmingWhitespace.isEmpty {
                errors.append(
                    .required(
                        Path.child(rulePath, "messageExpression"), "messageExpression must be non-empty if specified"))
            }
            if let reason = rule.reason, !Self.reasons.contains(reason) {
                errors.append(.notSupported(Path.child(rulePath, "reason"), .string(reason), Self.reasons))
            }
            if !rule.fieldPath.isEmpty && rule.fieldPath.trimmingWhitespace.isEmpty {
                errors.append(
                    .invalid(
                        Path.child(rulePath, "fieldPath"), .string(rule.fieldPath), "must be non-empty if specified"))
            }
            if rule.fieldPath.contains(where: \.isNewline) {
                errors.append(
                    .invalid(Path.child(rulePath, "fieldPath"), .string(rule.fieldPath), "must not contain line breaks")
                )
            }
            guard !trimmedRule.isEmpty else { continue }
            errors += compiled(rule, json: json, at: rulePath)
        }
        return errors
    }
}

extension OpenAPIRules {
    /// Rules and message expressions must compile, and only rules that can see an old value may read `oldSelf`.
    fileprivate func compiled(_ rule: ValidationRule, json: JSON, at rulePath: String) -> [FieldError] {
        var errors: [FieldError] = []
        switch CELRuleEvaluator.compile(rule.rule) {
        case .failure(let error):
            errors.append(.invalid(Path.child(rulePath, "rule"), json, "compilation failed: \(error)"))
        case .success(let program):
            let transition = program.references(variable: "oldSelf")
            if transition, let uncorrelatablePath {
                errors.append(
                    .invalid(
                        Path.child(rulePath, "rule"), .string(rule.rule),
                        "oldSelf cannot be used on the uncorrelatable portion of the schema within \(uncorrelatablePath)"
                    ))
            }
            if rule.optionalOldSelf && !transition {
                errors.append(
                    .invalid(
                        Path.child(rulePath, "optionalOldSelf"), true, "may not be set if oldSelf is not used in rule"))
            }
        }
        if !rule.messageExpression.trimmingWhitespace.isEmpty,
            case .failure(let error) = CELRuleEvaluator.compile(rule.messageExpression)
        {
            errors.append(
                .invalid(
                    Path.child(rulePath, "messageExpression"), json, "messageExpression compilation failed: \(error)"))
        }
        return errors
    }
}

/// Upstream's `field.Path` rendering: `a.b`, `a[key]`, `a[0]`.
enum Path {
    static func child(_ path: String, _ name: String) -> String { path.isEmpty ? name : path + "." + name }
    static func key(_ path: String, _ key: String) -> String { path + "[" + key + "]" }
    static func index(_ path: String, _ index: Int) -> String { path + "[\(index)]" }
}

extension String {
    var trimmingWhitespace: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}

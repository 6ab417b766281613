import APIMachinery

/// Upstream's checks of a CRD version's schema: the root's own rules, the structural invariants and
/// completeness (sorted by message, as upstream), the defaults, then the OpenAPI restrictions.
enum StructuralCheck {
    enum Level { case root, item, field }

    static func check(_ schema: JSON, at path: String) -> [FieldError] {
        guard let object = schema.objectValue else { return [.required(path, "")] }
        let shape = Shape.check(object, at: path)
        guard shape.isEmpty else { return shape }
        var errors: [FieldError] = []
        if object["nullable"]?.boolValue == true {
            errors.append(.forbidden(path + ".nullable", "nullable cannot be true at the root"))
        }
        var structural = invariants(object, level: .root, at: path)
        structural += valueValidationCompleteness(object, skeleton: object, skeletonPath: path, valuePath: path)
        structural.sort { $0.description < $1.description }
        errors += structural
        let openAPI = OpenAPIRules().validate(schema, at: path, isRoot: true)
        if structural.isEmpty && openAPI.isEmpty {
            errors += DefaultsCheck.validate(SchemaNode(parsing: schema), at: path, insideMeta: false, isRoot: true)
        }
        return errors + openAPI
    }

    // MARK: Invariants of the skeleton

    static func invariants(_ schema: JSONObject, level: Level, at path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let type = schema["type"]?.stringValue ?? ""
        let items = schema["items"]?.objectValue
        if type == "array" && items == nil {
            errors.append(.required(Path.child(path, "items"), "must be specified"))
        }
        if let items { errors += invariants(items, level: .item, at: Path.child(path, "items")) }
        let properties = schema["properties"]?.objectValue ?? JSONObject()
        for (name, property) in properties {
            errors += invariants(
                property.objectValue ?? JSONObject(), level: .field, at: Path.key(Path.child(path, "properties"), name))
        }
        let additional = schema["additionalProperties"]
        if let additional {
            if level == .root {
                errors.append(.forbidden(Path.child(path, "additionalProperties"), "must not be used at the root"))
            }
            if let nested = additional.objectValue {
                errors += invariants(nested, level: .field, at: Path.child(path, "additionalProperties"))
            }
        }
        let intOrString = schema["x-kubernetes-int-or-string"]?.boolValue == true
        let preserve = schema["x-kubernetes-preserve-unknown-fields"]?.boolValue == true
        let embedded = schema["x-kubernetes-embedded-resource"]?.boolValue == true
        if intOrString && preserve {
            errors.append(
                .invalid(
                    Path.child(path, "x-kubernetes-preserve-unknown-fields"), true,
                    "must be false if x-kubernetes-int-or-string is true"))
        }
        if intOrString && embedded {
            errors.append(
                .invalid(
                    Path.child(path, "x-kubernetes-embedded-resource"), true,
                    "must be false if x-kubernetes-int-or-string is true"))
        }
        errors += valueValidation(
            schema, skipAnyOf: isIntOrStringAnyOf(schema["anyOf"]),
            skipFirstAllOfAnyOf: isIntOrStringAnyOf(schema["allOf"]?.arrayValue?.first?["anyOf"]), at: path)
        let typePath = Path.child(path, "type")
        if embedded && type != "object" {
            if type.isEmpty {
                errors.append(.required(typePath, "must be object if x-kubernetes-embedded-resource is true"))
            } else {
                errors.append(
                    .invalid(typePath, .string(type), "must be object if x-kubernetes-embedded-resource is true"))
            }
        } else if type.isEmpty && !intOrString && !preserve {
            switch level {
            case .root: errors.append(.required(typePath, "must not be empty at the root"))
            case .item: errors.append(.required(typePath, "must not be empty for specified array items"))
            case .field: errors.append(.required(typePath, "must not be empty for specified object fields"))
            }
        }
        if embedded && additional != nil {
            errors.append(
                .forbidden(
                    Path.child(path, "additionalProperties"),
                    "must not be used if x-kubernetes-embedded-resource is set"))
        }
        if level == .root && !type.isEmpty && type != "object" {
            errors.append(.invalid(typePath, .string(type), "must be object at the root"))
        }
        let checkMetadata = level == .root || embedded
        let propertiesPath = Path.child(path, "properties")
        for name in ["kind", "apiVersion"] where checkMetadata {
            guard let property = properties[name] else { continue }
            let propertyType = property["type"]?.stringValue ?? ""
            if propertyType != "string" {
                errors.append(
                    .invalid(
                        Path.child(Path.key(propertiesPath, name), "type"), .string(propertyType), "must be string"))
            }
        }
        if let metadata = properties["metadata"]?.objectValue {
            errors += metadataInvariants(
                metadata, checkMetadata: checkMetadata, level: level, at: Path.key(propertiesPath, "metadata"))
        }
        if embedded && !preserve && properties.isEmpty {
            errors.append(
                .required(
                    propertiesPath,
                    "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"
                ))
        }
        return errors
    }

    private static func metadataInvariants(
        _ schema: JSONObject, checkMetadata: Bool, level: Level, at path: String
    ) -> [FieldError] {
        var errors: [FieldError] = []
        let type = schema["type"]?.stringValue ?? ""
        if checkMetadata && type != "object" {
            errors.append(.invalid(Path.child(path, "type"), .string(type), "must be object"))
        }
        guard level == .root else { return errors }
        // Only restrictions of name and generateName may be stated; the rest of ObjectMeta is implicit.
        let properties = schema["properties"]?.objectValue ?? JSONObject()
        let onlyNames = properties.keys.allSatisfy { $0 == "name" || $0 == "generateName" }
        let others = schema.keys.filter { key in
            switch key {
            case "type", "default": return false
            case "properties": return !onlyNames
            case "nullable", "uniqueItems", "exclusiveMaximum", "exclusiveMinimum",
                "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string":
                return schema[key]?.boolValue == true
            case "description", "title", "format", "pattern":
                return !(schema[key]?.stringValue ?? "").isEmpty
            case "required", "enum", "allOf", "anyOf", "oneOf", "x-kubernetes-list-map-keys",
                "x-kubernetes-validations":
                return !(schema[key]?.arrayValue ?? []).isEmpty
            default: return true
            }
        }
        if !others.isEmpty {
            errors.append(
                .forbidden(
                    path,
                    "must not specify anything other than name and generateName, but metadata is implicitly specified"
                ))
        }
        return errors
    }

    /// `anyOf: [{type: integer}, {type: string}]`, the shape generated for int-or-string fields.
    private static func isIntOrStringAnyOf(_ anyOf: JSON?) -> Bool {
        anyOf == [["type": "integer"], ["type": "string"]]
    }
}

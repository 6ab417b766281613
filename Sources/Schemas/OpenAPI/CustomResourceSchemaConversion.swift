public import APIMachinery

/// How upstream's apiextensions OpenAPI builder turns a CustomResourceDefinition version's `openAPIV3Schema`
/// into published definitions: only the structural schema's parts are kept, `x-kubernetes-int-or-string` is
/// unfolded into `anyOf` integer-or-string, and for swagger 2.0 what kubectl's v2 reader cannot take is
/// removed (`ToStructuralOpenAPIV2`, then defaults pruned as the v2 aggregator prunes them).
public enum CustomResourceSchemaConversion {
    /// The schema keys a structural schema keeps; anything else (`example`, `externalDocs`, `$schema`…) is
    /// dropped, as the round trip through upstream's `Structural` type drops it.
    static let structuralKeys: Set<String> = [
        "type", "description", "title", "default", "nullable", "format", "maximum", "exclusiveMaximum", "minimum",
        "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "multipleOf",
        "enum", "maxProperties", "minProperties", "required", "allOf", "oneOf", "anyOf", "not",
        "x-kubernetes-list-map-keys", "x-kubernetes-list-type", "x-kubernetes-map-type", "x-kubernetes-validations",
    ]
    /// Extensions upstream writes only when true.
    static let flagKeys = [
        "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
        "x-kubernetes-int-or-string",
    ]

    /// The schema as the OpenAPI v3 document publishes it: structural parts only, `x-kubernetes-int-or-string`
    /// unfolded, defaults and `nullable` kept.
    public static func openAPIV3(_ schema: JSON) -> JSON {
        guard case .object(let object) = schema else { return schema }
        var out = JSONObject()
        for (key, value) in object {
            switch key {
            case "properties":
                guard case .object(let properties) = value else { continue }
                var converted = JSONObject()
                for (name, property) in properties { converted[name] = openAPIV3(property) }
                out[key] = .object(converted)
            case "items", "additionalProperties":
                out[key] = value.objectValue != nil ? openAPIV3(value) : value
            case "nullable":
                if value.boolValue == true { out[key] = value }
            case _ where flagKeys.contains(key):
                if value.boolValue == true { out[key] = value }
            case _ where structuralKeys.contains(key):
                out[key] = value
            default:
                continue
            }
        }
        unfoldIntOrString(&out)
        return .object(out)
    }

    /// The schema as swagger 2.0 publishes it: `openAPIV3` without what v2 cannot say. `allOf`, `anyOf`,
    /// `oneOf` and `not` go; a nullable node loses its type and its children (v2 has no null); a node
    /// preserving unknown fields loses its children, and its type when it is an object; an array left without
    /// items loses its type; nullable properties are no longer required; defaults go.
    public static func openAPIV2(_ schema: JSON) -> JSON {
        stripForV2(openAPIV3(schema))
    }

    private static func stripForV2(_ schema: JSON) -> JSON {
        guard case .object(var node) = schema else { return schema }
        for key in ["allOf", "anyOf", "oneOf", "not", "default"] { node[key] = nil }
        if node["nullable"]?.boolValue == true {
            node["type"] = nil
            node["nullable"] = nil
            node["items"] = nil
            node["properties"] = nil
        }
        let preserves = node["x-kubernetes-preserve-unknown-fields"]?.boolValue == true
        if preserves {
            node["items"] = nil
            node["properties"] = nil
        }
        if node["type"]?.stringValue == "array", node["items"] == nil { node["type"] = nil }
        if preserves, node["type"]?.stringValue == "object" { node["type"] = nil }
        if case .array(let required)? = node["required"] {
            let properties = node["properties"]?.objectValue ?? JSONObject()
            let kept = required.filter { name in
                guard let name = name.stringValue else { return true }
                return properties[name]?["nullable"]?.boolValue != true
            }
            node["required"] = kept.isEmpty ? nil : .array(kept)
        }
        if node["additionalProperties"]?["nullable"]?.boolValue == true { node["required"] = nil }
        if case .object(let properties)? = node["properties"] {
            var converted = JSONObject()
            for (name, property) in properties { converted[name] = stripForV2(property) }
            node["properties"] = .object(converted)
        }
        for key in ["items", "additionalProperties"] where node[key]?.objectValue != nil {
            node[key] = node[key].map(stripForV2)
        }
        return .object(node)
    }

    /// Upstream's `Unfold`: an int-or-string node says so in value validation too, as `anyOf` integer or
    /// string (inside a leading `allOf` when it already has an `anyOf`), unless it already does.
    private static func unfoldIntOrString(_ node: inout JSONObject) {
        guard node["x-kubernetes-int-or-string"]?.boolValue == true else { return }
        let pattern: JSON = [["type": "integer"], ["type": "string"]]
        if node["anyOf"] == pattern || node["allOf"]?.arrayValue?.first?["anyOf"] == pattern { return }
        if node["anyOf"] == nil {
            node["anyOf"] = pattern
        } else {
            node["allOf"] = .array([["anyOf": pattern]] + (node["allOf"]?.arrayValue ?? []))
        }
    }

    /// `value` with every object's keys in byte order, as Go's encoder writes maps.
    static func sortedKeys(_ value: JSON) -> JSON {
        switch value {
        case .object(let object):
            let entries = object.entries.sorted { $0.key < $1.key }.map { ($0.key, sortedKeys($0.value)) }
            return .object(JSONObject(entries))
        case .array(let values):
            return .array(values.map(sortedKeys))
        default:
            return value
        }
    }
}

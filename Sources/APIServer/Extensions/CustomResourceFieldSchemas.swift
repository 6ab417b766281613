import APIMachinery
import Schemas

/// The field shapes server-side apply and managedFields need for one version of a custom resource: a
/// `SchemaRegistry` holding the version's schema (objects as structs or maps, lists atomic unless
/// `x-kubernetes-list-type` says otherwise, `x-kubernetes-map-type`) with `metadata` as upstream's ObjectMeta.
enum CustomResourceFieldSchemas {
    static let objectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

    /// The registry for `kind` served with `openAPIV3Schema`; nil when the schema cannot be read, and then the
    /// shared registry (which treats the object as one field) is used.
    static func registry(kind: GroupVersionKind, openAPIV3Schema: JSON?) -> SchemaRegistry? {
        var root = openAPIV3Schema.map(node) ?? JSON.object(["type": "object"])
        guard case .object(var fields) = root else { return nil }
        var properties = fields["properties"]?.objectValue ?? JSONObject()
        properties["apiVersion"] = ["type": "string"]
        properties["kind"] = ["type": "string"]
        properties["metadata"] = ["$ref": .string(objectMeta)]
        fields["type"] = "object"
        fields["properties"] = .object(properties)
        fields["additionalProperties"] = nil
        fields["x-kubernetes-group-version-kind"] = [
            ["group": .string(kind.group), "version": .string(kind.version), "kind": .string(kind.kind)]
        ]
        root = .object(fields)
        let name = "custom.\(kind.group).\(kind.version).\(kind.kind)"
        var definitions: JSONObject = [name: root]
        let shared = SchemaRegistry.shared
        for referenced in shared.referencedDefinitions(from: [objectMeta]) {
            if let schema = shared.definition(named: referenced) { definitions[referenced] = json(schema) }
        }
        let document: JSON = ["definitions": .object(definitions), "version": .string(shared.kubernetesVersion)]
        return try? SchemaRegistry(definitionsJSON: document.jsonString)
    }

    /// One node of a CRD schema in the registry's shape, keeping only what decides field ownership.
    static func node(_ schema: JSON) -> JSON {
        var out = JSONObject()
        for key in ["x-kubernetes-list-type", "x-kubernetes-map-type"] {
            if let value = schema[key]?.stringValue { out[key] = .string(value) }
        }
        if let keys = schema["x-kubernetes-list-map-keys"]?.arrayValue {
            out["x-kubernetes-list-map-keys"] = .array(keys)
        }
        if schema["x-kubernetes-int-or-string"]?.boolValue == true {
            out["type"] = "string"
            out["format"] = "int-or-string"
            return .object(out)
        }
        switch schema["type"]?.stringValue {
        case "object"?:
            out["type"] = "object"
            if let properties = schema["properties"]?.objectValue, !properties.isEmpty {
                var converted = JSONObject()
                for (name, child) in properties { converted[name] = node(child) }
                out["properties"] = .object(converted)
            } else if let values = schema["additionalProperties"], values.objectValue != nil {
                out["additionalProperties"] = node(values)
            }
        case "array"?:
            out["type"] = "array"
            out["items"] = schema["items"].map(node) ?? .object(JSONObject())
        case let type? where ["string", "integer", "number", "boolean"].contains(type):
            out["type"] = .string(type)
        default:
            break
        }
        return .object(out)
    }

    /// A shared definition back in the document shape the registry reads (`$ref` as a bare name).
    static func json(_ schema: Schema) -> JSON {
        var out = JSONObject()
        switch schema.type {
        case .reference(let name): out["$ref"] = .string(name)
        case .object(let object):
            out["type"] = "object"
            var properties = JSONObject()
            for (name, child) in object.properties.sorted(by: { $0.key < $1.key }) { properties[name] = json(child) }
            out["properties"] = .object(properties)
        case .map(let values):
            out["type"] = "object"
            out["additionalProperties"] = json(values)
        case .array(let items):
            out["type"] = "array"
            out["items"] = json(items)
        case .primitive(let type, let format):
            out["type"] = .string(type.rawValue)
            if let format { out["format"] = .string(format) }
        case .intOrString:
            out["type"] = "string"
            out["format"] = "int-or-string"
        case .any:
            break
        }
        if let strategy = schema.patchStrategy { out["x-kubernetes-patch-strategy"] = .string(strategy) }
        if let key = schema.patchMergeKey { out["x-kubernetes-patch-merge-key"] = .string(key) }
        if let listType = schema.listType { out["x-kubernetes-list-type"] = .string(listType.rawValue) }
        if !schema.listMapKeys.isEmpty {
            out["x-kubernetes-list-map-keys"] = .array(schema.listMapKeys.map(JSON.string))
        }
        if let mapType = schema.mapType { out["x-kubernetes-map-type"] = .string(mapType.rawValue) }
        return .object(out)
    }
}

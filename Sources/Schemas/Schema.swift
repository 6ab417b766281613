public import APIMachinery

/// One node of a kind's field tree, with the Kubernetes extensions that steer patching and apply.
public struct Schema: Sendable, Equatable {
    /// What values the node holds.
    public var type: SchemaType
    /// `x-kubernetes-patch-strategy`: "merge", "replace", "retainKeys" or "merge,retainKeys".
    public var patchStrategy: String?
    /// `x-kubernetes-patch-merge-key`: the item field that identifies list items for strategic merge.
    public var patchMergeKey: String?
    /// `x-kubernetes-list-type`: how server-side apply treats a list.
    public var listType: ListType?
    /// `x-kubernetes-list-map-keys`: the item fields that identify items of a `map` list.
    public var listMapKeys: [String]
    /// `x-kubernetes-map-type`: whether server-side apply owns an object as a whole.
    public var mapType: MapType?
    /// Our own short description (upstream's texts are not carried).
    public var description: String?

    public init(
        _ type: SchemaType, patchStrategy: String? = nil, patchMergeKey: String? = nil, listType: ListType? = nil,
        listMapKeys: [String] = [], mapType: MapType? = nil, description: String? = nil
    ) {
        self.type = type
        self.patchStrategy = patchStrategy
        self.patchMergeKey = patchMergeKey
        self.listType = listType
        self.listMapKeys = listMapKeys
        self.mapType = mapType
        self.description = description
    }

    /// The referenced definition's name when this node is a `$ref`.
    public var referenceName: String? {
        if case .reference(let name) = type { return name }
        return nil
    }
}

/// The shape of a schema node.
public indirect enum SchemaType: Sendable, Equatable {
    /// A named definition, resolved through the registry (definitions may be recursive).
    case reference(String)
    /// A struct with named fields; fields outside `properties` are unknown.
    case object(ObjectSchema)
    /// A string-keyed map (`additionalProperties`) whose values follow one schema.
    case map(Schema)
    /// A list whose items follow one schema.
    case array(Schema)
    /// A scalar such as a string with format "byte" or an int32.
    case primitive(PrimitiveType, format: String?)
    /// `intstr.IntOrString`: an integer or a string.
    case intOrString
    /// Free-form JSON kept as is: RawExtension, FieldsV1, apiextensions JSON.
    case any
}

/// A struct-like object's fields and the kinds that use it as their top-level schema.
public struct ObjectSchema: Sendable, Equatable {
    public var properties: [String: Schema]
    public var required: [String]
    /// `x-kubernetes-group-version-kind`, empty for nested types.
    public var groupVersionKinds: [GroupVersionKind]

    public init(properties: [String: Schema], required: [String] = [], groupVersionKinds: [GroupVersionKind] = []) {
        self.properties = properties
        self.required = required
        self.groupVersionKinds = groupVersionKinds
    }
}

/// JSON scalar types as OpenAPI names them.
public enum PrimitiveType: String, Sendable, Equatable {
    case string, integer, number, boolean
}

/// `x-kubernetes-list-type` values.
public enum ListType: String, Sendable, Equatable {
    case atomic, set, map
}

/// `x-kubernetes-map-type` values.
public enum MapType: String, Sendable, Equatable {
    case atomic, granular
}

/// A definition in the embedded document that does not fit the model; a generator bug, not input.
public struct SchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension Schema {
    /// Reads one node of the generated definitions (OpenAPI v2 shape, `$ref` holding a bare name).
    init(json: JSON, at location: String) throws(SchemaError) {
        guard case .object(let node) = json else {
            throw SchemaError(message: "\(location): schema is not an object")
        }
        let listType = try node["x-kubernetes-list-type"]?.stringValue.map { (raw) throws(SchemaError) in
            guard let value = ListType(rawValue: raw) else {
                throw SchemaError(message: "\(location): unknown list type \(raw)")
            }
            return value
        }
        let mapType = try node["x-kubernetes-map-type"]?.stringValue.map { (raw) throws(SchemaError) in
            guard let value = MapType(rawValue: raw) else {
                throw SchemaError(message: "\(location): unknown map type \(raw)")
            }
            return value
        }
        self.init(
            try Self.type(of: node, at: location),
            patchStrategy: node["x-kubernetes-patch-strategy"]?.stringValue,
            patchMergeKey: node["x-kubernetes-patch-merge-key"]?.stringValue,
            listType: listType,
            listMapKeys: node["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            mapType: mapType,
            description: node["description"]?.stringValue
        )
    }

    private static func type(of node: JSONObject, at location: String) throws(SchemaError) -> SchemaType {
        if let name = node["$ref"]?.stringValue { return .reference(name) }
        let format = node["format"]?.stringValue
        switch node["type"]?.stringValue {
        case nil:
            return .any
        case "object":
            if case .object(let properties)? = node["properties"] {
                var fields: [String: Schema] = [:]
                fields.reserveCapacity(properties.count)
                for (name, value) in properties {
                    fields[name] = try Schema(json: value, at: "\(location).\(name)")
                }
                let required = node["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
                let kinds = node["x-kubernetes-group-version-kind"]?.arrayValue?.compactMap(Self.groupVersionKind) ?? []
                return .object(ObjectSchema(properties: fields, required: required, groupVersionKinds: kinds))
            }
            if let values = node["additionalProperties"], case .object = values {
                return .map(try Schema(json: values, at: "\(location){}"))
            }
            // An object with neither fields nor value schema is free-form (RawExtension, FieldsV1).
            return .any
        case "array":
            guard let items = node["items"] else { throw SchemaError(message: "\(location): array without items") }
            return .array(try Schema(json: items, at: "\(location)[]"))
        case "string" where format == "int-or-string":
            return .intOrString
        case let name?:
            guard let primitive = PrimitiveType(rawValue: name) else {
                throw SchemaError(message: "\(location): unknown type \(name)")
            }
            return .primitive(primitive, format: format)
        }
    }

    private static func groupVersionKind(_ json: JSON) -> GroupVersionKind? {
        guard let group = json["group"]?.stringValue, let version = json["version"]?.stringValue,
            let kind = json["kind"]?.stringValue
        else { return nil }
        return GroupVersionKind(group: group, version: version, kind: kind)
    }
}

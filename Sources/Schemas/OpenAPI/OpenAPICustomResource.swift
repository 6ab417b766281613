public import APIMachinery

/// One served version of a custom resource as the OpenAPI documents publish it: its paths, and the
/// definitions upstream's apiextensions builder makes from the version's `openAPIV3Schema` — the kind and its
/// list, named by the reversed group (`com.example.stable.v1.CronTab`), with `apiVersion`, `kind` and
/// `metadata` added and `x-kubernetes-group-version-kind` set.
public struct OpenAPICustomResource: Sendable, Hashable {
    /// The resource's paths, as for a built-in one.
    public var resource: OpenAPIResource
    /// `spec.names.listKind`.
    public var listKind: String
    /// The version's `openAPIV3Schema`; nil publishes a bare object.
    public var openAPIV3Schema: JSON?

    public init(resource: OpenAPIResource, listKind: String, openAPIV3Schema: JSON?) {
        self.resource = resource
        self.listKind = listKind
        self.openAPIV3Schema = openAPIV3Schema
    }

    static let objectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    static let listMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
    static let conventions = "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md"
    // What `kubectl explain` shows for the fields every kind has (upstream's TypeMeta and metadata docs).
    static let apiVersionDescription =
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert "
        + "recognized schemas to the latest internal value, and may reject unrecognized values. More info: "
        + conventions + "#resources"
    static let kindDescription =
        "Kind is a string value representing the REST resource this object represents. Servers may infer this "
        + "from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: "
        + conventions + "#types-kinds"
    static let metadataDescription = "Standard object's metadata. More info: " + conventions + "#metadata"
    static let listMetadataDescription = "Standard list metadata. More info: " + conventions + "#types-kinds"
    // An embedded resource's fields are described in upstream's lower-case wording.
    static let embeddedAPIVersionDescription =
        "apiVersion defines the versioned schema of this representation of an object. More info: " + conventions
        + "#resources"
    static let embeddedKindDescription =
        "kind is a string value representing the type of this object. In CamelCase. More info: " + conventions
        + "#types-kinds"

    /// Upstream's name for the kind's definition: `stable.example.com/v1.CronTab` made REST-friendly, the group
    /// reversed: `com.example.stable.v1.CronTab`.
    public var definitionName: String {
        Self.definitionName(group: resource.group, version: resource.version, resource.kind)
    }

    /// The list kind's definition name: `com.example.stable.v1.CronTabList`.
    public var listDefinitionName: String {
        Self.definitionName(group: resource.group, version: resource.version, listKind)
    }

    static func definitionName(group: String, version: String, _ kind: String) -> String {
        let reversed = group.contains(".") ? group.split(separator: ".").reversed().joined(separator: ".") : group
        return reversed + "." + version + "." + kind
    }

    /// Whether the root keeps unknown fields: swagger 2.0 then publishes no fields at all, since kubectl's v2
    /// validation would refuse every field the schema does not list.
    public var preservesUnknownFieldsAtRoot: Bool {
        openAPIV3Schema?["x-kubernetes-preserve-unknown-fields"]?.boolValue == true
    }

    /// The kind's and the list's definitions in `flavor`'s form, keys sorted.
    func definitions(v2: Bool) -> [(key: String, value: JSON)] {
        [
            (definitionName, CustomResourceSchemaConversion.sortedKeys(kindSchema(v2: v2))),
            (listDefinitionName, CustomResourceSchemaConversion.sortedKeys(listSchema(v2: v2))),
        ]
    }

    /// Upstream's `buildKubeNative`: the converted schema with the type and object metadata every kind has.
    func kindSchema(v2: Bool) -> JSON {
        var schema: JSONObject
        if let openAPIV3Schema, !(v2 && preservesUnknownFieldsAtRoot) {
            let converted =
                v2
                ? CustomResourceSchemaConversion.openAPIV2(openAPIV3Schema)
                : CustomResourceSchemaConversion.openAPIV3(openAPIV3Schema)
            schema = converted.objectValue ?? JSONObject()
            var properties = schema["properties"]?.objectValue ?? JSONObject()
            properties["metadata"] = reference(Self.objectMeta, description: Self.metadataDescription, v2: v2)
            properties["apiVersion"] = ["type": "string", "description": .string(Self.apiVersionDescription)]
            properties["kind"] = ["type": "string", "description": .string(Self.kindDescription)]
            schema["properties"] = .object(properties)
            schema = addEmbeddedProperties(.object(schema), v2: v2).objectValue ?? schema
        } else {
            schema = ["type": "object"]
        }
        schema["x-kubernetes-group-version-kind"] = [
            ["group": .string(resource.group), "kind": .string(resource.kind), "version": .string(resource.version)]
        ]
        return .object(schema)
    }

    /// Upstream's list schema: `items` of the kind, list metadata, type metadata.
    func listSchema(v2: Bool) -> JSON {
        let prefix = v2 ? "#/definitions/" : "#/components/schemas/"
        let items: JSON = [
            "type": "array", "items": ["$ref": .string(prefix + definitionName)],
            "description": .string("List of \(resource.resource). More info: \(Self.conventions)"),
        ]
        return [
            "description": .string("\(listKind) is a list of \(resource.kind)"),
            "required": ["items"],
            "properties": [
                "apiVersion": ["type": "string", "description": .string(Self.apiVersionDescription)],
                "items": items,
                "kind": ["type": "string", "description": .string(Self.kindDescription)],
                "metadata": reference(Self.listMeta, description: Self.listMetadataDescription, v2: v2),
            ],
            "x-kubernetes-group-version-kind": [
                ["group": .string(resource.group), "kind": .string(listKind), "version": .string(resource.version)]
            ],
        ]
    }

    /// A reference with a description: a sibling of `$ref` in v2; in v3, where siblings of `$ref` are ignored,
    /// the reference goes in `allOf`, as the server's other v3 definitions have it.
    private func reference(_ name: String, description: String, v2: Bool) -> JSON {
        if v2 { return ["$ref": .string("#/definitions/" + name), "description": .string(description)] }
        return ["allOf": [["$ref": .string("#/components/schemas/" + name)]], "description": .string(description)]
    }

    /// Embedded resources (`x-kubernetes-embedded-resource`) get typed `apiVersion`, `kind` and `metadata` and
    /// require the first two; in v2 not where unknown fields are kept, since kubectl would then refuse them.
    private func addEmbeddedProperties(_ schema: JSON, v2: Bool) -> JSON {
        guard case .object(var node) = schema else { return schema }
        if case .object(let properties)? = node["properties"] {
            var converted = JSONObject()
            for (name, property) in properties { converted[name] = addEmbeddedProperties(property, v2: v2) }
            node["properties"] = .object(converted)
        }
        for key in ["items", "additionalProperties"] where node[key]?.objectValue != nil {
            node[key] = node[key].map { addEmbeddedProperties($0, v2: v2) }
        }
        if v2 && node["x-kubernetes-preserve-unknown-fields"]?.boolValue == true { return .object(node) }
        guard node["x-kubernetes-embedded-resource"]?.boolValue == true else { return .object(node) }
        var properties = node["properties"]?.objectValue ?? JSONObject()
        properties["apiVersion"] = ["type": "string", "description": .string(Self.embeddedAPIVersionDescription)]
        properties["kind"] = ["type": "string", "description": .string(Self.embeddedKindDescription)]
        properties["metadata"] = reference(Self.objectMeta, description: Self.metadataDescription, v2: v2)
        node["properties"] = .object(properties)
        var required = node["required"]?.arrayValue ?? []
        for name in ["kind", "apiVersion"] where !required.contains(.string(name)) { required.append(.string(name)) }
        node["required"] = .array(required)
        return .object(node)
    }
}

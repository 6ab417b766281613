public import APIMachinery

/// Builds `/openapi/v2` and `/openapi/v3` documents for the served resources from the schemas.
///
/// The documents depend only on the resource list, so the server builds them once
/// (`OpenAPIBuilder(resources:).build()`) and serves the cached bytes.
public struct OpenAPIBuilder: Sendable {
    /// What the server serves; resources whose kind has no schema get no paths.
    public var resources: [OpenAPIResource]
    /// Where the definitions come from.
    public var registry: SchemaRegistry
    /// `info.title` of every document.
    public var title = "Kubernetes"
    /// Served versions of custom resources, published with the definitions their schemas make.
    public var customResources: [OpenAPICustomResource] = []

    public init(resources: [OpenAPIResource], registry: SchemaRegistry = .shared) {
        self.resources = resources
        self.registry = registry
    }

    static let metaDefinitions = [
        APIPathPlanner.statusDefinition, APIPathPlanner.deleteOptionsDefinition, APIPathPlanner.patchDefinition,
        APIPathPlanner.resourceListDefinition,
    ]

    /// The group versions that have at least one resource, core first, then by group name.
    public var groupVersions: [GroupVersion] {
        Set(resources.map(\.groupVersion) + customResources.map(\.resource.groupVersion)).sorted {
            ($0.group.isEmpty ? 0 : 1, $0.group, $0.version) < ($1.group.isEmpty ? 0 : 1, $1.group, $1.version)
        }
    }

    /// The swagger 2.0 document served at `/openapi/v2`.
    public func v2Document() -> JSON {
        let renderer = OpenAPISchemaRenderer(flavor: .v2)
        let planner = self.planner
        let served = resources + customResources.map(\.resource)
        var paths: [(key: String, value: JSON)] = []
        for groupVersion in groupVersions {
            for path in planner.paths(
                for: groupVersion, resources: served.filter { $0.groupVersion == groupVersion })
            {
                paths.append((path.path, renderer.path(path)))
            }
        }
        paths.sort { $0.key < $1.key }
        return [
            "definitions": definitions(
                referencedBy: paths.map(\.value), renderer: renderer,
                custom: customResources.flatMap {
                    $0.definitions(v2: true)
                }),
            "info": ["title": .string(title), "version": .string(registry.kubernetesVersion)],
            "paths": .object(JSONObject(paths)),
            "security": [["BearerToken": []]],
            "securityDefinitions": [
                "BearerToken": [
                    "description": "Bearer token authentication", "in": "header", "name": "authorization",
                    "type": "apiKey",
                ]
            ],
            "swagger": "2.0",
        ]
    }

    /// The OpenAPI 3.0 document of one group version, served at `/openapi/v3/api/v1` or
    /// `/openapi/v3/apis/<group>/<version>`.
    public func v3Document(for groupVersion: GroupVersion) -> JSON {
        let renderer = OpenAPISchemaRenderer(flavor: .v3)
        let planner = self.planner
        let custom = customResources.filter { $0.resource.groupVersion == groupVersion }
        let served = resources.filter { $0.groupVersion == groupVersion } + custom.map(\.resource)
        var paths: [(key: String, value: JSON)] = planner.paths(for: groupVersion, resources: served).map {
            ($0.path, renderer.path($0))
        }
        paths.sort { $0.key < $1.key }
        return [
            "components": [
                "schemas": definitions(
                    referencedBy: paths.map(\.value), renderer: renderer,
                    custom: custom.flatMap { $0.definitions(v2: false) }),
                "securitySchemes": [
                    "BearerToken": [
                        "description": "Bearer token authentication", "in": "header", "name": "authorization",
                        "type": "apiKey",
                    ]
                ],
            ],
            "info": ["title": .string(title), "version": .string(registry.kubernetesVersion)],
            "openapi": "3.0.0",
            "paths": .object(JSONObject(paths)),
            "security": [["BearerToken": []]],
        ]
    }

    /// Encodes every document once.
    public func build() -> OpenAPIDocuments {
        var v3: [String: OpenAPIV3Document] = [:]
        for groupVersion in groupVersions {
            let bytes = v3Document(for: groupVersion).encoded()
            let document = OpenAPIV3Document(path: groupVersion.openAPIV3Path, hash: Self.hash(bytes), bytes: bytes)
            v3[document.path] = document
        }
        let rootPaths = v3.keys.sorted().compactMap { key -> (key: String, value: JSON)? in
            guard let document = v3[key] else { return nil }
            return (key, ["serverRelativeURL": .string(document.serverRelativeURL)])
        }
        let root: JSON = ["paths": .object(JSONObject(rootPaths))]
        let v2 = v2Document()
        return OpenAPIDocuments(
            v2: v2.encoded(), v2Protobuf: OpenAPIV2Protobuf.encode(v2), v3Root: root.encoded(), v3: v3)
    }

    /// Paths of custom resources name their kinds' definitions, which the registry does not hold.
    private var planner: APIPathPlanner {
        var planner = APIPathPlanner(registry: registry)
        for custom in customResources {
            let kind = custom.resource.groupVersionKind
            planner.customDefinitionNames[kind] = custom.definitionName
            let list = GroupVersionKind(group: kind.group, version: kind.version, kind: kind.kind + "List")
            planner.customDefinitionNames[list] = custom.listDefinitionName
        }
        return planner
    }

    /// The definitions the paths and `custom` refer to, everything those refer to, and `custom`, by name.
    private func definitions(
        referencedBy paths: [JSON], renderer: OpenAPISchemaRenderer, custom: [(key: String, value: JSON)] = []
    ) -> JSON {
        var roots = Self.metaDefinitions
        for path in paths { Self.collectReferences(in: path, prefix: renderer.referencePrefix, into: &roots) }
        for definition in custom {
            Self.collectReferences(in: definition.value, prefix: renderer.referencePrefix, into: &roots)
        }
        let names = registry.referencedDefinitions(from: roots).sorted()
        var entries = names.compactMap { name -> (key: String, value: JSON)? in
            guard let schema = registry.definition(named: name) else { return nil }
            return (name, renderer.definition(schema))
        }
        // A custom definition never replaces a built-in one of the same name.
        let builtIn = Set(names)
        entries += custom.filter { !builtIn.contains($0.key) }
        entries.sort { $0.key < $1.key }
        return .object(JSONObject(entries))
    }

    private static func collectReferences(in json: JSON, prefix: String, into names: inout [String]) {
        switch json {
        case .object(let object):
            for (key, value) in object {
                if key == "$ref", let target = value.stringValue, target.hasPrefix(prefix) {
                    names.append(String(target.dropFirst(prefix.count)))
                } else {
                    collectReferences(in: value, prefix: prefix, into: &names)
                }
            }
        case .array(let values):
            for value in values { collectReferences(in: value, prefix: prefix, into: &names) }
        default:
            break
        }
    }

    /// A stable hash of a document: FNV-1a 64-bit in uppercase hex. Clients only compare it, and
    /// it changes whenever the document does.
    public static func hash(_ bytes: [UInt8]) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        let hex = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// The encoded OpenAPI documents the server caches and serves as `application/json`.
public struct OpenAPIDocuments: Sendable {
    /// Content type of every document here.
    public static let contentType = "application/json"

    /// `/openapi/v2`.
    public let v2: [UInt8]
    /// `/openapi/v2` as gnostic protobuf (`OpenAPIV2Protobuf.contentType`).
    public let v2Protobuf: [UInt8]
    /// `/openapi/v3`: `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=…"}, …}}`.
    public let v3Root: [UInt8]
    /// Group-version documents keyed by their path below `/openapi/v3/`: `api/v1`, `apis/apps/v1`.
    public let v3: [String: OpenAPIV3Document]

    /// The document for a request path such as `/openapi/v3/apis/apps/v1` (query already removed).
    public func v3Document(requestPath: String) -> OpenAPIV3Document? {
        let prefix = "/openapi/v3/"
        guard requestPath.hasPrefix(prefix) else { return nil }
        return v3[String(requestPath.dropFirst(prefix.count))]
    }
}

/// One group version's OpenAPI v3 document with the hash the root document links it by.
public struct OpenAPIV3Document: Sendable {
    /// Path below `/openapi/v3/`, e.g. `apis/apps/v1`.
    public let path: String
    /// Changes whenever `bytes` change; a request carrying the current hash may be cached forever.
    public let hash: String
    /// The encoded OpenAPI 3.0 document.
    public let bytes: [UInt8]

    /// The URL the root document advertises: `/openapi/v3/apis/apps/v1?hash=<hash>`.
    public var serverRelativeURL: String { "/openapi/v3/\(path)?hash=\(hash)" }
}

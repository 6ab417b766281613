public import APIMachinery

/// A resource the API server serves, as the OpenAPI builder needs to describe it.
public struct OpenAPIResource: Sendable, Hashable {
    /// API group; "" for the core group.
    public var group: String
    public var version: String
    /// Plural resource name, e.g. "deployments".
    public var resource: String
    /// Kind of the objects, e.g. "Deployment".
    public var kind: String
    public var namespaced: Bool
    /// Discovery verbs: get, list, watch, create, update, patch, delete, deletecollection.
    public var verbs: [String]
    /// Subresources described in the documents: "status", "scale", "binding", "eviction".
    /// Others (log, exec, …) are not described.
    public var subresources: [String]

    public init(
        group: String, version: String, resource: String, kind: String, namespaced: Bool, verbs: [String],
        subresources: [String] = []
    ) {
        self.group = group
        self.version = version
        self.resource = resource
        self.kind = kind
        self.namespaced = namespaced
        self.verbs = verbs
        self.subresources = subresources
    }

    public var groupVersion: GroupVersion { GroupVersion(group: group, version: version) }
    public var groupVersionKind: GroupVersionKind { GroupVersionKind(group: group, version: version, kind: kind) }
}

extension GroupVersion {
    /// The path of this group version's OpenAPI v3 document below `/openapi/v3/`: `api/v1`, `apis/apps/v1`.
    public var openAPIV3Path: String { group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)" }

    /// The URL prefix of this group version's resources: `/api/v1`, `/apis/apps/v1`.
    var resourcePathPrefix: String { "/" + openAPIV3Path }

    /// The camel-case name upstream uses in operation IDs: `CoreV1`, `RbacAuthorizationV1`.
    var operationIDPrefix: String {
        groupIdentifier(capitalizeFirst: true) + version.prefix(1).uppercased() + version.dropFirst()
    }

    /// The tag upstream groups operations under: `core_v1`, `rbacAuthorization_v1`.
    var tag: String { groupIdentifier(capitalizeFirst: false) + "_" + version }

    private func groupIdentifier(capitalizeFirst: Bool) -> String {
        guard !group.isEmpty else { return capitalizeFirst ? "Core" : "core" }
        var name = Substring(group)
        if name.hasSuffix(".k8s.io") { name = name.dropLast(".k8s.io".count) }
        let words = name.split(separator: ".")
        var result = ""
        for (offset, word) in words.enumerated() {
            if offset == 0 && !capitalizeFirst {
                result += word
            } else {
                result += word.prefix(1).uppercased() + word.dropFirst()
            }
        }
        return result
    }
}

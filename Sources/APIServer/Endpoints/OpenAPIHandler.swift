import APIMachinery
import NIOConcurrencyHelpers
import Schemas

/// The OpenAPI documents, built on first use (start-up stays fast) and then served from memory.
final class OpenAPICache: Sendable {
    private let resources: [ResourceDefinition]
    private let documents = NIOLockedValueBox<OpenAPIDocuments?>(nil)

    init(resources: [ResourceDefinition]) { self.resources = resources }

    var current: OpenAPIDocuments {
        documents.withLockedValue { cached in
            if let cached { return cached }
            // Kinds without a published schema (custom resources for now) get no paths, and no empty document
            // for their group that would make kubectl look for them there.
            let described = resources.filter { SchemaRegistry.shared.schema(for: $0.groupVersionKind) != nil }
            let stored = described.map { definition in
                OpenAPIResource(
                    group: definition.group, version: definition.version, resource: definition.resource,
                    kind: definition.kind, namespaced: definition.namespaced, verbs: ResourceDefinition.allVerbs,
                    subresources: definition.subresources)
            }
            // Reviews are published too, so kubectl can validate a TokenReview or SubjectAccessReview file.
            let computed = Catalog.virtualResources.map { resource in
                OpenAPIResource(
                    group: resource.group, version: resource.version, resource: resource.resource, kind: resource.kind,
                    namespaced: resource.namespaced, verbs: ["create"], subresources: [])
            }
            let built = OpenAPIBuilder(resources: stored + computed).build()
            cached = built
            return built
        }
    }
}

extension APIServer {
    /// /openapi/v2 (JSON only: a protobuf-only Accept gets 406 so kubectl falls back) and /openapi/v3.
    func openAPI(_ request: HTTPRequest, parts: [String]) throws -> HTTPResponse? {
        let documents = openAPICache.current
        if parts == ["openapi", "v2"] {
            let accept = request.header("accept") ?? "application/json"
            if !accept.contains("json"), !accept.contains("*/*") {
                throw APIError.notAcceptable(["application/json"])
            }
            return .json(documents.v2, contentType: OpenAPIDocuments.contentType)
        }
        if parts == ["openapi", "v3"] { return .json(documents.v3Root, contentType: OpenAPIDocuments.contentType) }
        guard parts.count > 2, parts[1] == "v3" else { return nil }
        guard let document = documents.v3Document(requestPath: "/" + parts.joined(separator: "/")) else { return nil }
        var response = HTTPResponse.json(document.bytes, contentType: OpenAPIDocuments.contentType)
        if request.query["hash"] == document.hash {
            response.headers.add(name: "Cache-Control", value: "public, immutable")
        }
        return response
    }
}

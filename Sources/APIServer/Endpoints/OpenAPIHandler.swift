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
    /// /openapi/v2 (JSON, or gnostic protobuf as kubectl asks for it) and /openapi/v3.
    func openAPI(_ request: HTTPRequest, parts: [String]) throws -> HTTPResponse? {
        let documents = openAPICache.current
        if parts == ["openapi", "v2"] {
            let accept = request.header("accept") ?? "application/json"
            // The protobuf form only when asked for before JSON, as upstream's negotiation picks the first match.
            let protobuf = OpenAPIV2Protobuf.acceptedTypes.lazy.compactMap { accept.range(of: $0) }.first
            let json = accept.range(of: "json") ?? accept.range(of: "*/*")
            if let protobuf, json.map({ protobuf.lowerBound < $0.lowerBound }) ?? true {
                return .json(documents.v2Protobuf, contentType: OpenAPIV2Protobuf.contentType)
            }
            if json == nil {
                throw APIError.notAcceptable(["application/json", OpenAPIV2Protobuf.contentType])
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

import APIMachinery
import NIOConcurrencyHelpers
import NIOHTTP1
import Schemas

/// The OpenAPI documents of one resource table, built once per table: at once in the background when the
/// table serves custom resources, so a definition's change does not make the next request wait for the
/// rebuild, else on first use (start-up stays fast). A table rebuilt for a change that publishes nothing new
/// (a definition's status, say) reuses the documents already built.
final class OpenAPICache: Sendable {
    private let inputs: OpenAPIInputs
    private let documents = NIOLockedValueBox<ServedOpenAPI?>(nil)
    /// The documents last built in this process, by what they were built from.
    private static let lastBuilt = NIOLockedValueBox<(inputs: OpenAPIInputs, served: ServedOpenAPI)?>(nil)
    /// Counts caches made: a background build whose table was already replaced (a burst of definitions
    /// established one after another) is skipped, and only the newest table's documents are built.
    private static let generations = NIOLockedValueBox(0)

    init(resources: [ResourceDefinition]) {
        // Kinds without a published schema get no paths, and no empty document for their group that would
        // make kubectl look for them there; custom resources bring their own schemas.
        let described = resources.filter {
            $0.openAPICustomResource == nil && SchemaRegistry.shared.schema(for: $0.groupVersionKind) != nil
        }
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
        inputs = OpenAPIInputs(resources: stored + computed, custom: resources.compactMap(\.openAPICustomResource))
        guard !inputs.custom.isEmpty else { return }
        let generation = Self.generations.withLockedValue { count in
            count += 1
            return count
        }
        Task.detached(priority: .utility) { [self] in
            guard Self.generations.withLockedValue({ $0 }) == generation else { return }
            _ = self.current
        }
    }

    var current: ServedOpenAPI {
        documents.withLockedValue { cached in
            if let cached { return cached }
            let built: ServedOpenAPI
            if let last = Self.lastBuilt.withLockedValue({ $0 }), last.inputs == inputs {
                built = last.served
            } else {
                var builder = OpenAPIBuilder(resources: inputs.resources)
                builder.customResources = inputs.custom
                built = ServedOpenAPI(builder.build())
                Self.lastBuilt.withLockedValue { $0 = (inputs, built) }
            }
            cached = built
            return built
        }
    }
}

/// What the OpenAPI documents are made of: built-in resources and served versions of custom resources.
struct OpenAPIInputs: Sendable, Equatable {
    var resources: [OpenAPIResource]
    var custom: [OpenAPICustomResource]
}

/// The encoded documents with the entity tags they are served with.
struct ServedOpenAPI: Sendable {
    let documents: OpenAPIDocuments
    let v2ETag: String
    let v2ProtobufETag: String
    let v3RootETag: String

    init(_ documents: OpenAPIDocuments) {
        self.documents = documents
        v2ETag = Self.etag(documents.v2)
        v2ProtobufETag = Self.etag(documents.v2Protobuf)
        v3RootETag = Self.etag(documents.v3Root)
    }

    static func etag(_ bytes: [UInt8]) -> String { "\"" + OpenAPIBuilder.hash(bytes) + "\"" }
}

extension APIServer {
    /// /openapi/v2 (JSON, or gnostic protobuf as kubectl asks for it) and /openapi/v3, with entity tags so a
    /// client's cached copy is revalidated (304) and refetched once the documents change.
    func openAPI(_ request: HTTPRequest, parts: [String]) throws -> HTTPResponse? {
        let served = openAPICache.current
        let documents = served.documents
        if parts == ["openapi", "v2"] {
            let accept = request.header("accept") ?? "application/json"
            // The protobuf form only when asked for before JSON, as upstream's negotiation picks the first match.
            let protobuf = OpenAPIV2Protobuf.acceptedTypes.lazy.compactMap { accept.range(of: $0) }.first
            let json = accept.range(of: "json") ?? accept.range(of: "*/*")
            if let protobuf, json.map({ protobuf.lowerBound < $0.lowerBound }) ?? true {
                return Self.openAPIResponse(
                    documents.v2Protobuf, contentType: OpenAPIV2Protobuf.contentType, etag: served.v2ProtobufETag,
                    request: request)
            }
            if json == nil {
                throw APIError.notAcceptable(["application/json", OpenAPIV2Protobuf.contentType])
            }
            return Self.openAPIResponse(
                documents.v2, contentType: OpenAPIDocuments.contentType, etag: served.v2ETag, request: request)
        }
        if parts == ["openapi", "v3"] {
            return Self.openAPIResponse(
                documents.v3Root, contentType: OpenAPIDocuments.contentType, etag: served.v3RootETag,
                request: request)
        }
        guard parts.count > 2, parts[1] == "v3" else { return nil }
        guard let document = documents.v3Document(requestPath: "/" + parts.joined(separator: "/")) else { return nil }
        if let hash = request.query["hash"], hash != document.hash {
            // An outdated link: upstream sends the client to the current document.
            var moved = HTTPResponse(status: .movedPermanently, body: .bytes([]))
            moved.headers.add(name: "Location", value: document.serverRelativeURL)
            return moved
        }
        var response = Self.openAPIResponse(
            document.bytes, contentType: OpenAPIDocuments.contentType, etag: "\"\(document.hash)\"", request: request)
        if request.query["hash"] != nil {
            response.headers.add(name: "Cache-Control", value: "public, immutable")
        }
        return response
    }

    /// A document with its entity tag, or 304 when the client's `If-None-Match` already names it.
    static func openAPIResponse(_ bytes: [UInt8], contentType: String, etag: String, request: HTTPRequest)
        -> HTTPResponse
    {
        var headers: HTTPHeaders = ["ETag": etag, "Vary": "Accept"]
        let matches = request.header("if-none-match")?.split(separator: ",").contains {
            let tag = String($0).trimmingSpaces
            return tag == etag || tag == "W/" + etag || tag == "*"
        }
        if matches == true { return HTTPResponse(status: .notModified, headers: headers, body: .bytes([])) }
        headers.add(name: "Content-Type", value: contentType)
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(bytes))
    }
}

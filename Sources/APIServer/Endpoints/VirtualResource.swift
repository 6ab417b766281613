public import APIMachinery
import NIOHTTP1

/// A create-only resource that is computed and never stored, such as SubjectAccessReview: a POST answers
/// 201 with the posted object and its `status` filled in. Discovery lists it with the single verb `create`;
/// every other verb is 405. Requests reach `handler` after authentication and authorization, with the body
/// decoded (JSON or protobuf) and its kind and apiVersion checked and filled in.
///
/// To add one (TokenReview and SelfSubjectReview in authentication.k8s.io/v1 are next):
/// 1. write a handler `{ request, server in … }` that reads `request.body["spec"]` (and `request.user`,
///    `request.namespace`) and returns the object to answer with, usually `request.answer(status: …)`;
///    throw `APIError`s for bad input (`APIError.invalid`, `.badRequest`) as upstream does;
/// 2. append `VirtualResource(group:version:resource:kind:namespaced:handler:)` to
///    `Catalog.virtualResources` (Kinds/Catalog.swift). Routing, discovery and authorization follow.
public struct VirtualResource: Sendable {
    public typealias Handler = @Sendable (VirtualResourceRequest, APIServer) async throws -> JSON

    public var group: String
    public var version: String
    public var resource: String
    public var kind: String
    public var namespaced: Bool
    public var handler: Handler
    /// Set for a read-only resource (get and list, no create), such as ComponentStatus; see `VirtualReads`.
    public var reads: VirtualReads?

    public init(
        group: String, version: String = "v1", resource: String, kind: String, namespaced: Bool = false,
        handler: @escaping Handler
    ) {
        self.group = group
        self.version = version
        self.resource = resource
        self.kind = kind
        self.namespaced = namespaced
        self.handler = handler
    }

    /// A read-only computed resource: `reads` answers get and list, every other verb is 405.
    public init(group: String, version: String = "v1", resource: String, kind: String, reads: VirtualReads) {
        self.init(group: group, version: version, resource: resource, kind: kind) { _, _ in
            throw APIError.methodNotAllowed()
        }
        self.reads = reads
    }

    /// The verbs discovery and OpenAPI publish.
    var verbs: [String] { reads == nil ? ["create"] : ["get", "list"] }

    /// The resource as discovery describes it (it has no stored behaviour, hence the empty strategy).
    var definition: ResourceDefinition {
        ResourceDefinition(
            group: group, version: version, resource: resource, kind: kind, namespaced: namespaced,
            shortNames: reads?.shortNames ?? [], strategy: ComputedStrategy())
    }

    var groupVersionKind: GroupVersionKind { GroupVersionKind(group: group, version: version, kind: kind) }

    /// The strategy of a resource nothing is stored for: every hook keeps its default.
    struct ComputedStrategy: Strategy {}
}

/// One create of a virtual resource, as its handler sees it.
public struct VirtualResourceRequest: Sendable {
    /// The authenticated user who sent the request.
    public var user: UserInfo
    /// The URL's namespace for namespaced resources, else nil.
    public var namespace: String?
    /// The posted object, with kind and apiVersion filled in.
    public var body: JSON
    /// `dryRun=All`: nothing the handler does may be persisted.
    public var dryRun = false

    /// The posted object with `status` set, as upstream answers a review.
    public func answer(status: JSON) -> JSON {
        var object = body
        if object["metadata"] == nil { object["metadata"] = .object(JSONObject()) }
        object["status"] = status
        return object
    }
}

extension APIServer {
    /// The virtual resource a request names, if any.
    func virtualResource(_ info: RequestInfo) -> VirtualResource? {
        Catalog.virtualResources.first {
            $0.group == info.group && $0.version == info.version && $0.resource == info.resource
        }
    }

    /// Serves a request to a virtual resource: only a collection POST is allowed.
    func serveVirtual(_ request: HTTPRequest, info: RequestInfo, resource: VirtualResource) async throws
        -> HTTPResponse
    {
        if !resource.namespaced, info.namespace != nil { throw APIError.resourceNotFound() }
        if let reads = resource.reads {
            return try await serveVirtualRead(request, info: info, resource: resource, reads: reads)
        }
        guard info.verb == "create", info.name == nil, info.subresource == nil else {
            throw APIError.methodNotAllowed()
        }
        if resource.namespaced, info.namespace == nil { throw APIError.resourceNotFound() }
        let apiVersion = resource.groupVersionKind.groupVersion.apiVersion
        // Negotiated before the body is read, as upstream's create handler does: a review has no Table (406).
        let format = try ResponseFormat.negotiate(
            accept: request.header("accept"),
            capabilities: ResponseFormat.Capabilities(
                table: false, protobuf: KubernetesProtobuf.hasSchema(apiVersion: apiVersion, kind: resource.kind)))
        var body = try decodeBody(request)
        if let kind = body["kind"]?.stringValue, !kind.isEmpty, kind != resource.kind {
            throw APIError.badRequest(
                "the kind in the data (\(kind)) does not match the expected kind (\(resource.kind))")
        }
        if let version = body["apiVersion"]?.stringValue, !version.isEmpty, version != apiVersion {
            throw APIError.badRequest(
                "the API version in the data (\(version)) does not match the expected API version (\(apiVersion))")
        }
        body["kind"] = .string(resource.kind)
        body["apiVersion"] = .string(apiVersion)
        let virtualRequest = VirtualResourceRequest(
            user: request.user ?? .anonymous, namespace: info.namespace, body: body,
            dryRun: request.query["dryRun"] == "All")
        return ResponseEncoder.computed(
            try await resource.handler(virtualRequest, self), format: format, status: .created)
    }
}

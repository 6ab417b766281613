import APIMachinery
import NIOHTTP1

/// Encodes objects, lists, errors and watch events in the format `Accept` negotiates (`ResponseFormat`): JSON,
/// Kubernetes protobuf, a Table for `kubectl get`, or PartialObjectMetadata for metadata-only clients such as
/// the garbage collector. Objects come in the stored shape and go out in the served one
/// (`RegistryStore.fromStorage`); table cells are computed from the stored shape, the one the strategy knows.
struct ResponseEncoder: Sendable {
    let store: RegistryStore
    let format: ResponseFormat
    let includeObject: String

    /// Negotiates the format for a request to `store`: 406 when `Accept` names nothing it can serve.
    init(request: HTTPRequest, store: RegistryStore, stream: Bool = false) throws(APIError) {
        self.store = store
        format = try ResponseFormat.negotiate(
            accept: request.header("accept"), capabilities: Self.capabilities(store), stream: stream)
        includeObject = request.query["includeObject"] ?? "Metadata"
    }

    static func capabilities(_ store: RegistryStore) -> ResponseFormat.Capabilities {
        let definition = store.definition
        return ResponseFormat.Capabilities(
            table: true,
            protobuf: KubernetesProtobuf.hasSchema(apiVersion: definition.apiVersion, kind: definition.kind))
    }

    var asTable: Bool {
        if case .table = format.target { return true }
        return false
    }

    /// Whether the response can be the stored bytes as they are: JSON of a resource stored as served.
    var wantsRaw: Bool { format == .json && store.definition.conversion == nil }

    func object(_ object: JSON, status: HTTPResponseStatus = .ok) -> HTTPResponse {
        let definition = store.definition
        switch format.target {
        case .table(let version):
            var table = self.table(
                [object], metadata: ["resourceVersion": object["metadata"]?["resourceVersion"] ?? ""])
            table["apiVersion"] = .string("meta.k8s.io/" + version)
            return Self.encoded(table, media: format.media, status: status)
        case .partialObjectMetadataList:
            return .error(
                Self.notAcceptable(
                    "you requested PartialObjectMetadataList, but the requested object is not a list "
                        + "(*\(definition.version).\(definition.kind))"))
        case .partialObjectMetadata(let version):
            return encoded(Self.partial(object, version: version), status: status)
        case nil:
            return encoded(store.fromStorage(object), status: status)
        }
    }

    /// An error's Status in the negotiated media type.
    func error(_ error: APIError) -> HTTPResponse { Self.error(error, media: format.media) }

    /// An object in the negotiated media type under its own apiVersion and kind.
    private func encoded(_ object: JSON, status: HTTPResponseStatus) -> HTTPResponse {
        guard format.media == .protobuf, object["kind"] == nil || object["apiVersion"] == nil else {
            return Self.encoded(object, media: format.media, status: status)
        }
        // The envelope must name the kind even if the stored object does not.
        var named = object
        named["apiVersion"] = .string(store.definition.apiVersion)
        named["kind"] = .string(store.definition.kind)
        return Self.encoded(named, media: format.media, status: status)
    }

    static func encoded(_ object: JSON, media: ResponseFormat.Media, status: HTTPResponseStatus) -> HTTPResponse {
        if media == .yaml {
            return .json(YAMLResponse.encode(object), status: status, contentType: YAMLResponse.contentType)
        }
        guard media == .protobuf else { return .json(object.encoded(), status: status) }
        do {
            let bytes = try KubernetesProtobuf.encode(
                object, apiVersion: object["apiVersion"]?.stringValue ?? "", kind: object["kind"]?.stringValue ?? "")
            return .json(bytes, status: status, contentType: KubernetesProtobuf.mediaType)
        } catch {
            return Self.error(.internalError("unable to encode the response: \(error)"), media: .protobuf)
        }
    }

    /// A computed object (a review's answer) in `format`; it has no list form and no table.
    static func computed(_ object: JSON, format: ResponseFormat, status: HTTPResponseStatus) -> HTTPResponse {
        switch format.target {
        case .partialObjectMetadata(let version):
            return encoded(partial(object, version: version), media: format.media, status: status)
        case .table:
            // Negotiation offers no Table for computed kinds; kept total for the compiler.
            return .error(.notAcceptable(ResponseFormat.Media.allCases.map(\.rawValue)))
        case .partialObjectMetadataList:
            let kind = object["kind"]?.stringValue ?? ""
            let version = (object["apiVersion"]?.stringValue ?? "").split(separator: "/").last ?? ""
            return .error(
                notAcceptable(
                    "you requested PartialObjectMetadataList, but the requested object is not a list (*\(version).\(kind))"
                ))
        case nil:
            return encoded(object, media: format.media, status: status)
        }
    }

    /// An error's Status as `media` carries it (upstream's Status is the unversioned `v1` kind).
    static func error(_ error: APIError, media: ResponseFormat.Media) -> HTTPResponse {
        if media == .yaml {
            var response = encoded(error.status, media: .yaml, status: HTTPResponseStatus(statusCode: error.code))
            if let retry = error.retryAfterSeconds { response.headers.add(name: "Retry-After", value: String(retry)) }
            return response
        }
        guard media == .protobuf,
            let bytes = try? KubernetesProtobuf.encode(error.status, apiVersion: "v1", kind: "Status")
        else { return .error(error) }
        var response = HTTPResponse.json(
            bytes, status: HTTPResponseStatus(statusCode: error.code), contentType: KubernetesProtobuf.mediaType)
        if let retry = error.retryAfterSeconds { response.headers.add(name: "Retry-After", value: String(retry)) }
        return response
    }

    /// upstream's 406 for a conversion the object cannot take.
    static func notAcceptable(_ message: String) -> APIError {
        APIError(code: 406, reason: .notAcceptable, message: message)
    }

    /// An object reduced to its metadata, as upstream's `meta.AsPartialObjectMetadata`.
    static func partial(_ object: JSON, version: String) -> JSON {
        [
            "kind": "PartialObjectMetadata", "apiVersion": .string("meta.k8s.io/" + version),
            "metadata": object["metadata"] ?? .object(JSONObject()),
        ]
    }

    func table(_ objects: [JSON], metadata: JSONObject, withColumns: Bool = true) -> JSON {
        let rows = objects.map { object in
            Table.row(cells: store.strategy.cells(object), object: rowObject(object))
        }
        var table = Table(columns: withColumns ? store.strategy.columns : [], rows: rows, metadata: metadata).json
        if !withColumns { table["columnDefinitions"] = .null }
        return table
    }

    /// The row's object for a stored object, as `includeObject` asks.
    func rowObject(_ object: JSON) -> JSON {
        switch includeObject {
        case "None": return .null
        case "Object": return store.fromStorage(object)
        default:
            var version = "v1"
            if case .table(let asked) = format.target { version = asked }
            return Self.partial(object, version: version)
        }
    }
}

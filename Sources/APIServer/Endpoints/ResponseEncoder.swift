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

    func list(_ page: ListPage) -> HTTPResponse {
        var metadata: JSONObject = ["resourceVersion": .string(String(page.revision))]
        if let token = page.continueToken { metadata["continue"] = .string(token) }
        let definition = store.definition
        switch format.target {
        case .table(let version):
            var table = self.table(page.items, metadata: metadata)
            table["apiVersion"] = .string("meta.k8s.io/" + version)
            return Self.encoded(table, media: format.media, status: .ok)
        case .partialObjectMetadata:
            return .error(
                Self.notAcceptable(
                    "you requested PartialObjectMetadata, but the requested object is a list "
                        + "(*\(definition.version).\(definition.kind)List)"))
        case .partialObjectMetadataList(let version):
            let items = page.items.lazy.map { Self.partial($0, version: version) }
            return encodedList(
                apiVersion: "meta.k8s.io/" + version, kind: "PartialObjectMetadataList", metadata: metadata,
                items: items, count: page.items.count)
        case nil:
            let items = page.items.lazy.map { store.fromStorage($0) }
            if format.media == .protobuf, definition.conversion == nil, page.cachedItems.count == page.items.count,
                !page.items.isEmpty
            {
                return cachedProtobufList(page.cachedItems, metadata: metadata)
            }
            if format.media != .json {
                return encodedList(
                    apiVersion: definition.apiVersion, kind: definition.kind + "List", metadata: metadata, items: items,
                    count: page.items.count)
            }
            // Items are written straight into the output to avoid building one more tree of the whole list.
            var out: [UInt8] = []
            out.reserveCapacity(64 + page.items.count * 512)
            out.append(
                contentsOf:
                    "{\"kind\":\"\(definition.kind)List\",\"apiVersion\":\"\(definition.apiVersion)\",\"metadata\":"
                    .utf8)
            JSON.object(metadata).encode(into: &out)
            out.append(contentsOf: ",\"items\":[".utf8)
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.encode(into: &out)
            }
            for (index, item) in page.rawItems.enumerated() {
                if index > 0 || !page.items.isEmpty { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: item)
            }
            out.append(contentsOf: "]}".utf8)
            return .json(out)
        }
    }

    /// A protobuf list of watch-cache objects, each object's message made once and kept with it, so a list
    /// costs about what a JSON list of stored bytes does.
    private func cachedProtobufList(_ objects: [CachedObject], metadata: JSONObject) -> HTTPResponse {
        let definition = store.definition
        do {
            let items = try objects.map { cached throws(ProtobufEncodeError) in
                try cached.protobuf.get { () throws(ProtobufEncodeError) in
                    try KubernetesProtobuf.encodeMessage(
                        cached.object, apiVersion: definition.apiVersion, kind: definition.kind)
                }
            }
            let bytes = try KubernetesProtobuf.encodeList(
                apiVersion: definition.apiVersion, kind: definition.kind + "List", metadata: metadata,
                encodedItems: items, capacity: 256 + items.reduce(0) { $0 + $1.count + 4 })
            return .json(bytes, contentType: KubernetesProtobuf.mediaType)
        } catch {
            return Self.error(.internalError("unable to encode the response: \(error)"), media: .protobuf)
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

    private func encodedList(
        apiVersion: String, kind: String, metadata: JSONObject, items: some Sequence<JSON>, count: Int
    ) -> HTTPResponse {
        guard format.media == .protobuf else {
            let list: JSON = [
                "kind": .string(kind), "apiVersion": .string(apiVersion), "metadata": .object(metadata),
                "items": .array(Array(items)),
            ]
            return Self.encoded(list, media: format.media, status: .ok)
        }
        do {
            let bytes = try KubernetesProtobuf.encodeList(
                apiVersion: apiVersion, kind: kind, metadata: metadata, items: items, capacity: 256 + count * 1_024)
            return .json(bytes, contentType: KubernetesProtobuf.mediaType)
        } catch {
            return Self.error(.internalError("unable to encode the response: \(error)"), media: .protobuf)
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

public import APIMachinery

/// How a read-only computed resource answers get and list (ComponentStatus, which upstream computes on every
/// request from probes): each request calls `list` or `get`, nothing is stored or watched, and upstream's
/// media types, tables, label and field selectors apply as for stored kinds.
public struct VirtualReads: Sendable {
    /// Every object, in name order.
    public var list: @Sendable (APIServer) async -> [JSON]
    /// The object named `name`; throws the kind's not-found error when there is none.
    public var get: @Sendable (String, APIServer) async throws -> JSON
    public var shortNames: [String]
    /// The table `kubectl get` prints.
    public var columns: [Table.Column]
    public var cells: @Sendable (JSON) -> [JSON]
    /// A warning sent with every answer (a deprecated kind's), nil for none.
    public var warning: String?

    public init(
        shortNames: [String] = [], columns: [Table.Column], cells: @escaping @Sendable (JSON) -> [JSON],
        warning: String? = nil, list: @escaping @Sendable (APIServer) async -> [JSON],
        get: @escaping @Sendable (String, APIServer) async throws -> JSON
    ) {
        self.list = list
        self.get = get
        self.shortNames = shortNames
        self.columns = columns
        self.cells = cells
        self.warning = warning
    }
}

extension APIServer {
    /// Serves get and list of a read-only virtual resource; every other verb is 405, as upstream's REST
    /// storage that implements only Getter and Lister answers.
    func serveVirtualRead(_ request: HTTPRequest, info: RequestInfo, resource: VirtualResource, reads: VirtualReads)
        async throws -> HTTPResponse
    {
        let response: HTTPResponse
        do {
            response = try await virtualRead(request, info: info, kind: resource.kind, reads: reads)
        } catch let error as APIError {
            return HTTPResponse.error(error).addingWarnings(reads.warning.map { [$0] } ?? [])
        }
        return response.addingWarnings(reads.warning.map { [$0] } ?? [])
    }

    private func virtualRead(_ request: HTTPRequest, info: RequestInfo, kind: String, reads: VirtualReads)
        async throws -> HTTPResponse
    {
        guard info.subresource == nil, info.verb == "get" || info.verb == "list" else {
            throw APIError.methodNotAllowed()
        }
        let apiVersion = GroupVersion(group: info.group, version: info.version).apiVersion
        let format = try ResponseFormat.negotiate(
            accept: request.header("accept"),
            capabilities: ResponseFormat.Capabilities(
                table: true, protobuf: KubernetesProtobuf.hasSchema(apiVersion: apiVersion, kind: kind)))
        func named(_ object: JSON) -> JSON {
            var named = object
            named["kind"] = .string(kind)
            named["apiVersion"] = .string(apiVersion)
            return named
        }
        func table(_ objects: [JSON], version: String) -> HTTPResponse {
            let rows = objects.map {
                Table.row(cells: reads.cells($0), object: ResponseEncoder.partial($0, version: version))
            }
            var table = Table(columns: reads.columns, rows: rows).json
            table["apiVersion"] = .string("meta.k8s.io/" + version)
            return ResponseEncoder.encoded(table, media: format.media, status: .ok)
        }
        if info.verb == "get" {
            let object = named(try await reads.get(info.name ?? "", self))
            if case .table(let version) = format.target { return table([object], version: version) }
            return ResponseEncoder.computed(object, format: format, status: .ok)
        }
        let options = try ListOptions(query: request.query)
        let items = await reads.list(self).filter { object in
            options.labelSelector.matches(object.labels)
                && options.fieldSelector.matches { field in field == "metadata.name" ? object.name : nil }
        }
        switch format.target {
        case .table(let version):
            return table(items, version: version)
        case .partialObjectMetadata:
            throw ResponseEncoder.notAcceptable(
                "you requested PartialObjectMetadata, but the requested object is a list (*\(info.version).\(kind)List)"
            )
        case .partialObjectMetadataList(let version):
            let list: JSON = [
                "kind": "PartialObjectMetadataList", "apiVersion": .string("meta.k8s.io/" + version),
                "metadata": .object(JSONObject()),
                "items": .array(items.map { ResponseEncoder.partial($0, version: version) }),
            ]
            return ResponseEncoder.encoded(list, media: format.media, status: .ok)
        case nil:
            let list: JSON = [
                "kind": .string(kind + "List"), "apiVersion": .string(apiVersion), "metadata": .object(JSONObject()),
                "items": .array(items),
            ]
            return ResponseEncoder.encoded(list, media: format.media, status: .ok)
        }
    }
}

import APIMachinery
import NIOHTTP1

/// Encodes objects, lists and watch events as JSON, or as a Table when `kubectl get` asks for one.
/// Objects come in the stored shape and go out in the served one (`RegistryStore.fromStorage`); table
/// cells are computed from the stored shape, the one the strategy knows.
struct ResponseEncoder: Sendable {
    let store: RegistryStore
    let asTable: Bool
    let includeObject: String

    init(request: HTTPRequest, store: RegistryStore) {
        self.store = store
        let accept = request.header("accept") ?? ""
        asTable = accept.contains("as=Table")
        includeObject = request.query["includeObject"] ?? "Metadata"
    }

    /// Whether the response can be the stored bytes as they are: JSON of a resource stored as served.
    var wantsRaw: Bool { !asTable && store.definition.conversion == nil }

    func object(_ object: JSON, status: HTTPResponseStatus = .ok) -> HTTPResponse {
        guard asTable else { return .json(store.fromStorage(object).encoded(), status: status) }
        return .json(
            table([object], metadata: ["resourceVersion": object["metadata"]?["resourceVersion"] ?? ""]).encoded(),
            status: status)
    }

    func list(_ page: ListPage) -> HTTPResponse {
        var metadata: JSONObject = ["resourceVersion": .string(String(page.revision))]
        if let token = page.continueToken { metadata["continue"] = .string(token) }
        if asTable { return .json(table(page.items, metadata: metadata).encoded()) }
        // Items are written straight into the output to avoid building one more tree of the whole list.
        var out: [UInt8] = []
        out.reserveCapacity(64 + page.items.count * 512)
        out.append(
            contentsOf:
                "{\"kind\":\"\(store.definition.kind)List\",\"apiVersion\":\"\(store.definition.apiVersion)\",\"metadata\":"
                .utf8)
        JSON.object(metadata).encode(into: &out)
        out.append(contentsOf: ",\"items\":[".utf8)
        for (index, item) in page.items.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            store.fromStorage(item).encode(into: &out)
        }
        for (index, item) in page.rawItems.enumerated() {
            if index > 0 || !page.items.isEmpty { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: item)
        }
        out.append(contentsOf: "]}".utf8)
        return .json(out)
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
            return [
                "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                "metadata": object["metadata"] ?? .object(JSONObject()),
            ]
        }
    }

    /// Streams `{"type":…,"object":…}` lines until the watch ends or the client leaves. Lines are encoded as
    /// the connection takes them, everything waiting in one chunk, so a slow client's backlog stays in the
    /// watch's own bounded queue and goes out in few writes.
    func watch(_ queue: WatchQueue, options: ListOptions) -> HTTPResponse {
        let lines = WatchLines(WatchQueue.Reader(queue), encoder: self, options: options)
        let chunks = AsyncStream(unfolding: { await lines.next() })
        var headers: HTTPHeaders = ["Content-Type": "application/json"]
        headers.add(name: "Cache-Control", value: "no-cache, private")
        return HTTPResponse(status: .ok, headers: headers, body: .stream(chunks))
    }
}

/// The lines of one watch response, pulled a batch at a time by the connection writer (a single consumer,
/// hence the unchecked sendability).
private final class WatchLines: @unchecked Sendable {
    private let events: WatchQueue.Reader
    private let encoder: ResponseEncoder
    private let options: ListOptions
    private var firstTable = true
    private var sentInitialEnd = false
    private var lastRevision = "0"

    init(_ events: WatchQueue.Reader, encoder: ResponseEncoder, options: ListOptions) {
        self.events = events
        self.encoder = encoder
        self.options = options
    }

    func next() async -> [UInt8]? {
        while let batch = await events.next() {
            var chunk: [UInt8] = []
            for output in batch { append(output, to: &chunk) }
            if !chunk.isEmpty { return chunk }
        }
        return nil
    }

    private func append(_ output: WatchOutput, to line: inout [UInt8]) {
        switch output {
        case .event(let type, let object, let encoded):
            lastRevision = object.resourceVersion ?? lastRevision
            line.append(contentsOf: "{\"type\":\"\(type)\",\"object\":".utf8)
            if encoder.asTable {
                encoder.table([object], metadata: ["resourceVersion": .string(lastRevision)], withColumns: firstTable)
                    .encode(into: &line)
                firstTable = false
            } else if let encoded, encoder.wantsRaw {
                line.append(contentsOf: encoded)
            } else {
                encoder.store.fromStorage(object).encode(into: &line)
            }
        case .bookmark(let revision):
            guard options.allowWatchBookmarks else { return }
            lastRevision = String(revision)
            var metadata: JSONObject = ["resourceVersion": .string(lastRevision)]
            if !sentInitialEnd, options.sendInitialEvents == true {
                metadata["annotations"] = ["k8s.io/initial-events-end": "true"]
                sentInitialEnd = true
            }
            let definition = encoder.store.definition
            let object: JSON = [
                "kind": .string(definition.kind), "apiVersion": .string(definition.apiVersion),
                "metadata": .object(metadata),
            ]
            line.append(contentsOf: "{\"type\":\"BOOKMARK\",\"object\":".utf8)
            object.encode(into: &line)
        case .error(let error):
            line.append(contentsOf: "{\"type\":\"ERROR\",\"object\":".utf8)
            error.status.encode(into: &line)
        }
        line.append(contentsOf: "}\n".utf8)
    }
}

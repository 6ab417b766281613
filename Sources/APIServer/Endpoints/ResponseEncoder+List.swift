import APIMachinery
import NIOHTTP1

extension ResponseEncoder {
    /// A list page in the negotiated format. JSON, protobuf and JSON tables are encoded while the connection
    /// takes them (`ListChunks`), so a large list is never held a second time as one body.
    func list(_ page: ListPage) -> HTTPResponse {
        var metadata: JSONObject = ["resourceVersion": .string(String(page.revision))]
        if let token = page.continueToken { metadata["continue"] = .string(token) }
        let definition = store.definition
        switch format.target {
        case .table(let version):
            guard format.media == .json else {
                var table = self.table(page.items, metadata: metadata)
                table["apiVersion"] = .string("meta.k8s.io/" + version)
                return Self.encoded(table, media: format.media, status: .ok)
            }
            var envelope = Table(columns: store.strategy.columns, metadata: metadata).json
            envelope["apiVersion"] = .string("meta.k8s.io/" + version)
            let (items, strategy, encoder) = (page.items, store.strategy, self)
            return Self.jsonList(envelope, listField: "rows", count: items.count) { index, out in
                let object = items[index]
                Table.row(cells: strategy.cells(object), object: encoder.rowObject(object)).encode(into: &out)
            }
        case .partialObjectMetadata:
            return .error(
                Self.notAcceptable(
                    "you requested PartialObjectMetadata, but the requested object is a list "
                        + "(*\(definition.version).\(definition.kind)List)"))
        case .partialObjectMetadataList(let version):
            return streamedList(
                apiVersion: "meta.k8s.io/" + version, kind: "PartialObjectMetadataList", metadata: metadata,
                items: page.items, convert: { Self.partial($0, version: version) })
        case nil:
            let store = self.store
            if format.media == .protobuf, definition.conversion == nil, page.cachedItems.count == page.items.count,
                !page.items.isEmpty
            {
                return cachedProtobufList(page.cachedItems, metadata: metadata)
            }
            return streamedList(
                apiVersion: definition.apiVersion, kind: definition.kind + "List", metadata: metadata,
                items: page.items, raw: page.rawItems, convert: { store.fromStorage($0) })
        }
    }

    /// A list of stored `items` each shown as `convert` makes it, then `raw` items (stored JSON bytes) as
    /// they are.
    private func streamedList(
        apiVersion: String, kind: String, metadata: JSONObject, items: [JSON], raw: [[UInt8]] = [],
        convert: @escaping @Sendable (JSON) -> JSON
    ) -> HTTPResponse {
        let envelope: JSON = [
            "kind": .string(kind), "apiVersion": .string(apiVersion), "metadata": .object(metadata), "items": [],
        ]
        switch format.media {
        case .json:
            return Self.jsonList(envelope, listField: "items", count: items.count + raw.count) { index, out in
                if index < items.count {
                    convert(items[index]).encode(into: &out)
                } else {
                    out.append(contentsOf: raw[index - items.count])
                }
            }
        case .protobuf:
            do {
                let messages = try KubernetesProtobuf.listItemMessages(
                    apiVersion: apiVersion, kind: kind, items: items.lazy.map(convert))
                return try Self.protobufList(apiVersion: apiVersion, kind: kind, metadata: metadata, items: messages)
            } catch {
                return Self.error(.internalError("unable to encode the response: \(error)"), media: .protobuf)
            }
        case .yaml:
            var list = envelope
            // Raw items are asked for JSON only (`wantsRaw`).
            list["items"] = .array(items.map(convert))
            return Self.encoded(list, media: .yaml, status: .ok)
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
            return try Self.protobufList(
                apiVersion: definition.apiVersion, kind: definition.kind + "List", metadata: metadata, items: items)
        } catch {
            return Self.error(.internalError("unable to encode the response: \(error)"), media: .protobuf)
        }
    }

    /// A protobuf list around item messages, written as the connection takes them.
    private static func protobufList(apiVersion: String, kind: String, metadata: JSONObject, items: [[UInt8]])
        throws(ProtobufEncodeError) -> HTTPResponse
    {
        let frame = try KubernetesProtobuf.listFrame(
            apiVersion: apiVersion, kind: kind, metadata: metadata, itemSizes: items.lazy.map(\.count))
        let chunks = ListChunks(head: frame.head, tail: frame.tail, count: items.count) { index, out in
            frame.appendItem(items[index], to: &out)
        }
        return HTTPResponse(
            status: .ok, headers: ["Content-Type": KubernetesProtobuf.mediaType], body: ChunkedBody.body(chunks))
    }

    /// A JSON list: `envelope` (whose last field, `listField`, is an empty array) with `count` elements
    /// that `element` writes in place of that array's contents, so the bytes are those of the whole tree.
    private static func jsonList(
        _ envelope: JSON, listField: String, count: Int,
        element: @escaping @Sendable (Int, inout [UInt8]) -> Void
    ) -> HTTPResponse {
        var head = envelope.encoded()
        // The encoding ends with `"<listField>":[]}`: the elements go between the brackets.
        head.removeLast(2)
        let chunks = ListChunks(head: head, tail: Array("]}".utf8), count: count) { index, out in
            if index > 0 { out.append(UInt8(ascii: ",")) }
            element(index, &out)
        }
        return HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"], body: ChunkedBody.body(chunks))
    }
}

/// A list's body in chunks of a little over `chunkBytes`, each made when the response writer asks for it:
/// the head, then as many elements as fill a chunk, and the tail after the last.
struct ListChunks: IteratorProtocol, Sendable {
    /// Large enough that a page of 500 ordinary objects stays one body, and that each chunk's trip to the
    /// event loop and back costs little next to its encoding; above the compression threshold, so a body of
    /// more than one chunk is always worth gzipping.
    static let chunkBytes = 512 * 1024

    private var head: [UInt8]?
    private let tail: [UInt8]
    private let count: Int
    private let element: @Sendable (Int, inout [UInt8]) -> Void
    private var index = 0
    private var finished = false

    init(head: [UInt8], tail: [UInt8], count: Int, element: @escaping @Sendable (Int, inout [UInt8]) -> Void) {
        self.head = head
        self.tail = tail
        self.count = count
        self.element = element
    }

    mutating func next() -> [UInt8]? {
        guard !finished else { return nil }
        var chunk = head ?? []
        head = nil
        while chunk.count <= Self.chunkBytes, index < count {
            element(index, &chunk)
            index += 1
        }
        if index == count {
            chunk.append(contentsOf: tail)
            finished = true
        }
        return chunk
    }
}

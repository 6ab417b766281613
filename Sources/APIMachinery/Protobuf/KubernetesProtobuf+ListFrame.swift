/// Protobuf lists written item by item: a list's bytes are its frame's `head`, each item's message as the
/// `items` field (`appendItem`), then its `tail`. The frame needs only the items' sizes, so a response can
/// send a large list in pieces instead of holding it whole.
public struct ProtobufListFrame: Sendable {
    /// The magic, the envelope's typeMeta, the raw field's tag and length, and the list's metadata when its
    /// field number comes before the items'.
    public let head: [UInt8]
    /// The list's metadata when it comes after the items, then the envelope's empty contentEncoding and
    /// contentType, as Go always writes them.
    public let tail: [UInt8]
    let itemField: Int

    /// Appends one item's message (from `KubernetesProtobuf.listItemMessages` or `encodeMessage`) as an item.
    public func appendItem(_ message: [UInt8], to out: inout [UInt8]) {
        var writer = ProtobufWriter()
        swap(&writer.bytes, &out)
        writer.field(itemField, bytes: message)
        swap(&writer.bytes, &out)
    }

    /// The bytes of length-delimited field `number` holding `content` bytes.
    static func fieldSize(_ number: Int, content: Int) -> Int {
        varintSize(UInt64(number) << 3 | UInt64(ProtobufWireType.lengthDelimited.rawValue))
            + varintSize(UInt64(content)) + content
    }

    private static func varintSize(_ value: UInt64) -> Int {
        var value = value
        var size = 1
        while value >= 0x80 {
            value >>= 7
            size += 1
        }
        return size
    }
}

extension KubernetesProtobuf {
    /// The frame of list `kind` (the list's, e.g. `PodList`) in `apiVersion` with `metadata`, around items
    /// whose messages are `itemSizes` bytes long, in order.
    public static func listFrame(
        apiVersion: String, kind: String, metadata: JSONObject, itemSizes: some Sequence<Int>
    ) throws(ProtobufEncodeError) -> ProtobufListFrame {
        let list = try listFields(apiVersion: apiVersion, kind: kind)
        var encoder = ProtobufEncoder(schema: list.schema, capacity: 256)
        try encoder.nested(list.metadataNumber, list.metadataIndex, .object(metadata))
        let metadataField = encoder.writer.bytes
        let itemsLength = itemSizes.reduce(0) { $0 + ProtobufListFrame.fieldSize(list.itemsNumber, content: $1) }
        var head = ProtobufWriter()
        head.bytes.append(contentsOf: magic)
        let typeMeta = head.begin(1)
        head.field(1, string: apiVersion)
        head.field(2, string: kind)
        head.end(typeMeta)
        head.tag(2, .lengthDelimited)
        head.varint(UInt64(metadataField.count + itemsLength))
        // v1beta1's PartialObjectMetadataList numbers items before metadata; fields go in number order.
        let metadataFirst = list.metadataNumber < list.itemsNumber
        if metadataFirst { head.bytes.append(contentsOf: metadataField) }
        let tail = (metadataFirst ? [] : metadataField) + [0x1A, 0x00, 0x22, 0x00]
        return ProtobufListFrame(head: head.bytes, tail: tail, itemField: list.itemsNumber)
    }

    /// Each item's message as list `kind` in `apiVersion` holds it: without apiVersion and kind, as Go's are.
    public static func listItemMessages(
        apiVersion: String, kind: String, items: some Sequence<JSON>
    ) throws(ProtobufEncodeError) -> [[UInt8]] {
        let list = try listFields(apiVersion: apiVersion, kind: kind)
        var messages: [[UInt8]] = []
        messages.reserveCapacity(items.underestimatedCount)
        for item in items {
            var encoder = ProtobufEncoder(schema: list.schema)
            do throws(ProtobufEncodeError) {
                try encoder.body(list.itemIndex, item, depth: 1)
            } catch {
                throw error.inside("items")
            }
            messages.append(encoder.writer.bytes)
        }
        return messages
    }

    /// The list message's metadata and items fields, with the messages they hold.
    private static func listFields(apiVersion: String, kind: String) throws(ProtobufEncodeError) -> (
        schema: ProtobufSchema, metadataNumber: Int, metadataIndex: Int, itemsNumber: Int, itemIndex: Int
    ) {
        let schema = try loadedSchema()
        guard let index = schema.kinds[apiVersion + " " + kind] else {
            throw ProtobufEncodeError("no protobuf schema for \(kind) in \(apiVersion)")
        }
        let message = schema.messages[index]
        guard let metadataField = message.fields.first(where: { $0.jsonName == "metadata" }),
            let itemsField = message.fields.first(where: { $0.jsonName == "items" }),
            case .message(let metadataIndex) = metadataField.value, case .message(let itemIndex) = itemsField.value
        else {
            throw ProtobufEncodeError("\(kind) in \(apiVersion) is not a list")
        }
        return (schema, metadataField.number, metadataIndex, itemsField.number, itemIndex)
    }
}

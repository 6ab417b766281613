/// Encodes API responses as Kubernetes protobuf: objects, lists and Status bodies in the `k8s\0` envelope,
/// and watch streams as upstream frames them.
extension KubernetesProtobuf {
    /// The Content-Type of a protobuf watch stream.
    public static let watchMediaType = "application/vnd.kubernetes.protobuf;stream=watch"

    /// Whether a kind has a protobuf schema, so a response of it can be protobuf rather than JSON.
    public static func hasSchema(apiVersion: String, kind: String) -> Bool {
        guard case .success(let schema) = ProtobufSchema.shared else { return false }
        return schema.kinds[apiVersion + " " + kind] != nil
    }

    /// An object in the envelope: `k8s\0`, then `runtime.Unknown{typeMeta{apiVersion, kind}, raw}` whose raw
    /// bytes are the object's message. The envelope names `apiVersion` and `kind`, not the object's own.
    public static func encode(_ object: JSON, apiVersion: String, kind: String) throws(ProtobufEncodeError)
        -> [UInt8]
    {
        let schema = try loadedSchema()
        // DeleteOptions under any group version, as typed clients label them and `decode` reads them.
        guard let index = schema.message(forAPIVersion: apiVersion, kind: kind) else {
            throw ProtobufEncodeError("no protobuf schema for \(kind) in \(apiVersion)")
        }
        guard case .object(let fields) = object else { throw ProtobufEncoder.mismatch("an object", object) }
        var encoder = ProtobufEncoder(schema: schema)
        let raw = encoder.openEnvelope(apiVersion: apiVersion, kind: kind)
        try encoder.fields(of: index, from: fields, depth: 0)
        encoder.closeEnvelope(raw)
        return encoder.writer.bytes
    }

    /// A list (`kind` is the list's, e.g. `PodList`) from its metadata and items, without building the
    /// list's JSON. Items are encoded without their apiVersion and kind, as Go's are.
    public static func encodeList(
        apiVersion: String, kind: String, metadata: JSONObject, items: some Sequence<JSON>, capacity: Int = 4_096
    ) throws(ProtobufEncodeError) -> [UInt8] {
        try encodeList(
            apiVersion: apiVersion, kind: kind, metadata: metadata,
            encodedItems: listItemMessages(apiVersion: apiVersion, kind: kind, items: items), capacity: capacity)
    }

    /// A list whose items are already messages (`encodeMessage` of each, e.g. kept by a cache): each is
    /// copied in as it is, so a list costs little more than its bytes.
    public static func encodeList(
        apiVersion: String, kind: String, metadata: JSONObject, encodedItems: some Collection<[UInt8]>,
        capacity: Int = 4_096
    ) throws(ProtobufEncodeError) -> [UInt8] {
        let frame = try listFrame(
            apiVersion: apiVersion, kind: kind, metadata: metadata, itemSizes: encodedItems.lazy.map(\.count))
        var out = frame.head
        out.reserveCapacity(capacity)
        for item in encodedItems { frame.appendItem(item, to: &out) }
        out.append(contentsOf: frame.tail)
        return out
    }

    /// One object's message without the envelope, as it appears inside a list's `items` and inside the
    /// envelope's raw bytes (Go's messages carry no apiVersion or kind).
    public static func encodeMessage(_ object: JSON, apiVersion: String, kind: String) throws(ProtobufEncodeError)
        -> [UInt8]
    {
        let schema = try loadedSchema()
        guard let index = schema.kinds[apiVersion + " " + kind] else {
            throw ProtobufEncodeError("no protobuf schema for \(kind) in \(apiVersion)")
        }
        var encoder = ProtobufEncoder(schema: schema)
        try encoder.body(index, object, depth: 1)
        return encoder.writer.bytes
    }

    /// Appends one watch event as upstream's protobuf stream carries it: a 4-byte big-endian length, then a
    /// `metav1.WatchEvent{type, object: RawExtension{raw}}` without envelope, whose raw bytes are `object`
    /// (an enveloped object from `encode`).
    public static func appendWatchFrame(type: String, object: [UInt8], to out: inout [UInt8]) {
        var writer = ProtobufWriter()
        writer.bytes.reserveCapacity(object.count + type.utf8.count + 16)
        writer.field(1, string: type)
        let extensionStart = writer.begin(2)
        writer.field(1, bytes: object)
        writer.end(extensionStart)
        let length = UInt32(truncatingIfNeeded: writer.bytes.count)
        out.append(contentsOf: [
            UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
            UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length),
        ])
        out.append(contentsOf: writer.bytes)
    }

    /// Splits a protobuf watch stream into its events (`type` and the decoded object); bytes of an
    /// unfinished last frame are left in `buffer` for the next read.
    public static func decodeWatchFrames(_ buffer: inout [UInt8]) throws(ProtobufDecodeError) -> [(
        type: String, object: JSON
    )] {
        let schema = try ProtobufSchema.shared.get()
        guard let index = schema.kinds["meta.k8s.io/v1 WatchEvent"] else {
            throw ProtobufDecodeError(.unsupportedKind, "no protobuf schema for WatchEvent")
        }
        var events: [(type: String, object: JSON)] = []
        var offset = 0
        while buffer.count - offset >= 4 {
            let length = buffer[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            guard buffer.count - offset - 4 >= length else { break }
            let range = (offset + 4)..<(offset + 4 + length)
            let event = try ProtobufDecoder(bytes: buffer, schema: schema).message(index, in: range, depth: 0)
            events.append((event["type"]?.stringValue ?? "", event["object"] ?? .null))
            offset = range.upperBound
        }
        buffer.removeFirst(offset)
        return events
    }

    static func loadedSchema() throws(ProtobufEncodeError) -> ProtobufSchema {
        switch ProtobufSchema.shared {
        case .success(let schema): return schema
        case .failure(let error): throw ProtobufEncodeError(error.message)
        }
    }
}

extension ProtobufEncoder {
    /// Writes the magic and `runtime.Unknown`'s typeMeta, and opens its raw field; the caller fills it
    /// with the object's fields and closes it with `closeEnvelope`.
    mutating func openEnvelope(apiVersion: String, kind: String) -> Int {
        writer.bytes.append(contentsOf: KubernetesProtobuf.magic)
        let typeMeta = writer.begin(1)
        writer.field(1, string: apiVersion)
        writer.field(2, string: kind)
        writer.end(typeMeta)
        return writer.begin(2)
    }

    /// Closes the raw field and writes Unknown's empty contentEncoding and contentType, as Go always does.
    mutating func closeEnvelope(_ raw: Int) {
        writer.end(raw)
        writer.bytes.append(contentsOf: [0x1A, 0x00, 0x22, 0x00])
    }

    /// Writes `value` as message `index` in field `number`.
    mutating func nested(_ number: Int, _ index: Int, _ value: JSON) throws(ProtobufEncodeError) {
        let start = writer.begin(number)
        try body(index, value, depth: 1)
        writer.end(start)
    }
}

/// Decodes Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`, as kubectl
/// and client-go send for typed objects) into the JSON Kubernetes would write for the object.
public enum KubernetesProtobuf {
    /// The media type Kubernetes uses for protobuf bodies.
    public static let mediaType = "application/vnd.kubernetes.protobuf"

    /// The four bytes `k8s\0` that open every Kubernetes protobuf body.
    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    /// Whether a Content-Type header names Kubernetes protobuf (parameters, case and spaces
    /// ignored). `;stream=watch` is a framed watch stream, not one object, so it does not count.
    public static func isProtobuf(contentType: String) -> Bool {
        let parts = contentType.lowercased().split(separator: ";", omittingEmptySubsequences: false)
            .map { $0.filter { $0 != " " && $0 != "\t" } }
        guard parts.first == mediaType else { return false }
        return !parts.dropFirst().contains("stream=watch")
    }

    /// Decodes one body: the `k8s\0` magic, then a `runtime.Unknown` envelope whose typeMeta names
    /// the kind and whose raw bytes are the object's own encoding. The object starts with
    /// `apiVersion` and `kind` from the envelope, then its fields in protobuf field-number order.
    public static func decode(_ body: [UInt8]) throws(ProtobufDecodeError) -> (
        apiVersion: String, kind: String, object: JSON
    ) {
        let schema = try ProtobufSchema.shared.get()
        let decoder = ProtobufDecoder(bytes: body, schema: schema)
        return try decoder.envelope(in: body.startIndex..<body.endIndex, depth: 0)
    }
}

extension ProtobufDecoder {
    /// Reads the magic and `runtime.Unknown` (1 typeMeta {1 apiVersion, 2 kind}, 2 raw,
    /// 3 contentEncoding, 4 contentType) in `range`, then the object in its raw bytes.
    func envelope(in range: Range<Int>, depth: Int) throws(ProtobufDecodeError) -> (
        apiVersion: String, kind: String, object: JSON
    ) {
        let magic = KubernetesProtobuf.magic
        guard range.count >= magic.count,
            bytes[range.lowerBound..<(range.lowerBound + magic.count)].elementsEqual(magic)
        else {
            throw ProtobufDecodeError(
                .malformed, "body does not start with the Kubernetes protobuf magic k8s\\0", offset: range.lowerBound)
        }
        var reader = ProtobufReader(bytes: bytes, range: (range.lowerBound + magic.count)..<range.upperBound)
        var apiVersion = ""
        var kind = ""
        var raw = range.upperBound..<range.upperBound
        var contentEncoding = ""
        var contentType = ""
        while !reader.isAtEnd {
            let (number, wireType) = try reader.tag()
            guard (1...4).contains(number) else {
                try reader.skip(wireType)
                continue
            }
            guard wireType == .lengthDelimited else {
                throw reader.error("unexpected wire type \(wireType.rawValue) in the envelope")
            }
            let value = try reader.lengthDelimited()
            switch number {
            case 1: (apiVersion, kind) = try typeMeta(in: value)
            case 2: raw = value
            case 3: contentEncoding = reader.string(value)
            default: contentType = reader.string(value)
            }
        }
        guard contentEncoding.isEmpty else {
            throw ProtobufDecodeError(.unsupportedEncoding, "content encoding \"\(contentEncoding)\" is not supported")
        }
        guard contentType.isEmpty || KubernetesProtobuf.isProtobuf(contentType: contentType) else {
            throw ProtobufDecodeError(.unsupportedEncoding, "embedded content type \"\(contentType)\" is not protobuf")
        }
        guard !apiVersion.isEmpty, !kind.isEmpty else {
            throw ProtobufDecodeError(.malformed, "the envelope does not name the object's apiVersion and kind")
        }
        guard let index = schema.message(forAPIVersion: apiVersion, kind: kind) else {
            throw ProtobufDecodeError(.unsupportedKind, "no protobuf schema for \(kind) in \(apiVersion)")
        }
        var object = JSONObject()
        object.entries.append(("apiVersion", .string(apiVersion)))
        object.entries.append(("kind", .string(kind)))
        if case .object(let fields) = try message(index, in: raw, depth: depth + 1) {
            object.entries.append(contentsOf: fields.entries)
        }
        return (apiVersion, kind, .object(object))
    }

    private func typeMeta(in range: Range<Int>) throws(ProtobufDecodeError) -> (String, String) {
        var reader = ProtobufReader(bytes: bytes, range: range)
        var apiVersion = ""
        var kind = ""
        while !reader.isAtEnd {
            let (number, wireType) = try reader.tag()
            guard number == 1 || number == 2 else {
                try reader.skip(wireType)
                continue
            }
            guard wireType == .lengthDelimited else {
                throw reader.error("unexpected wire type \(wireType.rawValue) in typeMeta")
            }
            let text = reader.string(try reader.lengthDelimited())
            if number == 1 { apiVersion = text } else { kind = text }
        }
        return (apiVersion, kind)
    }
}

/// Writes the JSON of a Kubernetes object as its protobuf encoding, guided by the same field table the
/// decoder reads: the mirror of `ProtobufDecoder`.
///
/// A field is written when the JSON has it (and it is not null). Go's gogo-protobuf code also writes every
/// non-pointer field at its zero value; a reader fills a missing non-pointer field with that same zero
/// value, so leaving it out decodes to the identical Go object while keeping responses smaller. Fields are
/// written in field-number order, map entries in key order, as Go writes them.
struct ProtobufEncoder {
    let schema: ProtobufSchema
    var writer = ProtobufWriter()

    init(schema: ProtobufSchema, capacity: Int = 1_024) {
        self.schema = schema
        writer.bytes.reserveCapacity(capacity)
    }

    /// Writes the fields of message `index` taken from `object` (the message's own JSON object).
    mutating func fields(of index: Int, from object: JSONObject, depth: Int) throws(ProtobufEncodeError) {
        guard depth <= ProtobufDecoder.maxDepth else {
            throw ProtobufEncodeError("objects nested deeper than \(ProtobufDecoder.maxDepth)")
        }
        let message = schema.messages[index]
        for field in message.fields {
            if field.isInline {
                // An inline struct's fields sit in the parent's JSON object.
                guard case .message(let inner) = field.value else { continue }
                let start = writer.begin(field.number)
                try fields(of: inner, from: object, depth: depth + 1)
                if writer.bytes.count == start { writer.cancel(start, number: field.number) } else { writer.end(start) }
                continue
            }
            guard let value = object[field.jsonName], value != .null else { continue }
            do {
                try self.field(field, value, depth: depth)
            } catch {
                throw error.inside(field.jsonName)
            }
        }
    }

    private mutating func field(_ field: ProtobufField, _ value: JSON, depth: Int) throws(ProtobufEncodeError) {
        if let keyType = field.mapKey {
            guard case .object(let entries) = value else { throw mismatch("an object", value) }
            let sorted = entries.entries.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (key, entryValue) in sorted {
                let start = writer.begin(field.number)
                try mapKey(keyType, key)
                if entryValue != .null {
                    try single(2, field.value, entryValue, depth: depth)
                } else if case .message = field.value {
                    writer.field(2, bytes: EmptyCollection())
                }
                writer.end(start)
            }
            return
        }
        if field.isRepeated {
            guard case .array(let items) = value else { throw mismatch("an array", value) }
            for item in items {
                // Go reads a JSON null element as the element type's zero value.
                try single(field.number, field.value, item == .null ? Self.zero(field.value) : item, depth: depth)
            }
            return
        }
        try single(field.number, field.value, value, depth: depth)
    }

    /// One value: a scalar, or a message written as a length-delimited field.
    private mutating func single(_ number: Int, _ type: ProtobufValueType, _ value: JSON, depth: Int)
        throws(ProtobufEncodeError)
    {
        switch type {
        case .scalar(let scalar):
            try self.scalar(number, scalar, value)
        case .message(let index):
            let start = writer.begin(number)
            try body(index, value, depth: depth + 1)
            writer.end(start)
        }
    }

    /// The content of message `index` for `value`: its fields, or a special type's own encoding.
    mutating func body(_ index: Int, _ value: JSON, depth: Int) throws(ProtobufEncodeError) {
        let message = schema.messages[index]
        if let special = message.special {
            try self.special(special, value)
            return
        }
        switch value {
        case .object(let object): try fields(of: index, from: object, depth: depth)
        case .null: return
        default: throw mismatch("an object", value)
        }
    }

    private static func zero(_ type: ProtobufValueType) -> JSON {
        switch type {
        case .message: return .object(JSONObject())
        case .scalar(.string), .scalar(.bytes): return .string("")
        case .scalar(.bool): return .bool(false)
        case .scalar: return .int(0)
        }
    }

    private mutating func mapKey(_ type: ProtobufScalar, _ key: String) throws(ProtobufEncodeError) {
        switch type {
        case .string:
            writer.field(1, string: key)
        case .bool:
            try scalar(1, type, .bool(key == "true"))
        default:
            guard let number = Int64(key) else { throw ProtobufEncodeError("map key \"\(key)\" is not a number") }
            try scalar(1, type, .int(number))
        }
    }

    mutating func scalar(_ number: Int, _ scalar: ProtobufScalar, _ value: JSON) throws(ProtobufEncodeError) {
        switch scalar {
        case .string:
            guard case .string(let text) = value else { throw mismatch("a string", value) }
            writer.field(number, string: text)
        case .bytes:
            guard case .string(let text) = value else { throw mismatch("a base64 string", value) }
            guard let decoded = Base64Decoding.decode(text) else {
                throw ProtobufEncodeError("\"\(text.prefix(32))\" is not valid base64")
            }
            writer.field(number, bytes: decoded)
        case .bool:
            guard case .bool(let flag) = value else { throw mismatch("a boolean", value) }
            writer.field(number, varint: flag ? 1 : 0)
        case .float:
            writer.tag(number, .fixed32)
            writer.fixed32(Float(try Self.double(value)).bitPattern)
        case .double:
            writer.tag(number, .fixed64)
            writer.fixed64(try Self.double(value).bitPattern)
        case .int32, .int64:
            // Go sign-extends a negative int32 to ten bytes, as every protobuf implementation does.
            writer.field(number, varint: UInt64(bitPattern: try Self.integer(value)))
        case .uint32, .uint64:
            writer.field(number, varint: UInt64(bitPattern: try Self.integer(value)))
        case .sint32, .sint64:
            let signed = try Self.integer(value)
            writer.field(number, varint: UInt64(bitPattern: (signed << 1) ^ (signed >> 63)))
        case .fixed32, .sfixed32:
            writer.tag(number, .fixed32)
            writer.fixed32(UInt32(truncatingIfNeeded: try Self.integer(value)))
        case .fixed64, .sfixed64:
            writer.tag(number, .fixed64)
            writer.fixed64(UInt64(bitPattern: try Self.integer(value)))
        }
    }

    private static func integer(_ value: JSON) throws(ProtobufEncodeError) -> Int64 {
        switch value {
        case .int(let number): return number
        case .double(let number):
            guard number.rounded() == number, let exact = Int64(exactly: number) else {
                throw ProtobufEncodeError("\(number) is not an integer")
            }
            return exact
        default: throw mismatch("an integer", value)
        }
    }

    private static func double(_ value: JSON) throws(ProtobufEncodeError) -> Double {
        switch value {
        case .int(let number): return Double(number)
        case .double(let number): return number
        default: throw mismatch("a number", value)
        }
    }

    static func mismatch(_ expected: String, _ value: JSON) -> ProtobufEncodeError {
        let found: String
        switch value {
        case .null: found = "null"
        case .bool: found = "a boolean"
        case .int, .double: found = "a number"
        case .string: found = "a string"
        case .array: found = "an array"
        case .object: found = "an object"
        }
        return ProtobufEncodeError("expected \(expected), found \(found)")
    }

    private func mismatch(_ expected: String, _ value: JSON) -> ProtobufEncodeError {
        Self.mismatch(expected, value)
    }
}

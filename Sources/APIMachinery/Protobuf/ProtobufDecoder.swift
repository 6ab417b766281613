/// Turns the protobuf encoding of a Kubernetes object into the JSON Kubernetes would write for it,
/// guided by the generated field table.
struct ProtobufDecoder {
    /// Real objects nest about fifteen messages deep (a CronJob's container securityContext);
    /// the bound keeps hostile nesting from exhausting the stack.
    static let maxDepth = 64

    let bytes: [UInt8]
    let schema: ProtobufSchema

    /// One field's value while its message is read; repeated and map fields collect every entry
    /// and may appear several times on the wire, so JSON is built only once the message ends.
    private enum Slot {
        case empty
        case value(JSON)
        case list([JSON])
        case map([(key: String, value: JSON)])
        /// A singular message field. Go merges repeated occurrences, which is the same as decoding
        /// their concatenation, so the ranges are kept and decoded at the end.
        case message([Range<Int>])
    }

    /// Decodes the message `index` from `range`.
    func message(_ index: Int, in range: Range<Int>, depth: Int) throws(ProtobufDecodeError) -> JSON {
        guard depth <= Self.maxDepth else {
            throw ProtobufDecodeError(
                .malformed, "messages nested deeper than \(Self.maxDepth)", offset: range.lowerBound)
        }
        let message = schema.messages[index]
        if let special = message.special {
            return try self.special(special, in: range, depth: depth)
        }
        var slots = [Slot](repeating: .empty, count: message.fields.count)
        var reader = ProtobufReader(bytes: bytes, range: range)
        while !reader.isAtEnd {
            let (number, wireType) = try reader.tag()
            guard let slot = message.slot(for: number) else {
                try reader.skip(wireType)
                continue
            }
            let field = message.fields[slot]
            do {
                try read(field, wireType: wireType, from: &reader, into: &slots[slot], depth: depth)
            } catch {
                throw error.inside(field.isInline ? "" : field.jsonName)
            }
        }
        var object = JSONObject()
        object.entries.reserveCapacity(slots.count)
        for (slot, field) in zip(slots, message.fields) {
            switch slot {
            case .empty: continue
            case .value(let value): object.entries.append((field.jsonName, value))
            case .list(let values): object.entries.append((field.jsonName, .array(values)))
            case .map(let entries): object.entries.append((field.jsonName, .object(Self.lastKeyWins(entries))))
            case .message(let ranges):
                guard case .message(let fieldIndex) = field.value else { continue }
                let value: JSON
                do {
                    value = try merged(fieldIndex, ranges, depth: depth + 1)
                } catch {
                    throw error.inside(field.isInline ? "" : field.jsonName)
                }
                if field.isInline, case .object(let inner) = value {
                    object.entries.append(contentsOf: inner.entries)
                } else {
                    object.entries.append((field.jsonName, value))
                }
            }
        }
        return .object(object)
    }

    private func merged(_ index: Int, _ ranges: [Range<Int>], depth: Int) throws(ProtobufDecodeError) -> JSON {
        if ranges.count == 1 { return try message(index, in: ranges[0], depth: depth) }
        var joined: [UInt8] = []
        joined.reserveCapacity(ranges.reduce(0) { $0 + $1.count })
        for range in ranges { joined.append(contentsOf: bytes[range]) }
        do {
            return try ProtobufDecoder(bytes: joined, schema: schema).message(index, in: 0..<joined.count, depth: depth)
        } catch {
            // Offsets into the joined copy mean nothing to the caller; point at the first occurrence.
            var relocated = error
            relocated.offset = ranges.first?.lowerBound
            throw relocated
        }
    }

    private func read(
        _ field: ProtobufField, wireType: ProtobufWireType, from reader: inout ProtobufReader, into slot: inout Slot,
        depth: Int
    ) throws(ProtobufDecodeError) {
        if let keyType = field.mapKey {
            guard wireType == .lengthDelimited else { throw wrongWireType(wireType, reader) }
            let entry = try mapEntry(key: keyType, value: field.value, in: reader.lengthDelimited(), depth: depth)
            // Taking the array out of the slot first keeps it uniquely referenced, so appends are O(1).
            guard case .map(var entries) = slot else {
                slot = .map([entry])
                return
            }
            slot = .empty
            entries.append(entry)
            slot = .map(entries)
            return
        }
        if !field.isRepeated, case .message = field.value {
            guard wireType == .lengthDelimited else { throw wrongWireType(wireType, reader) }
            let range = try reader.lengthDelimited()
            guard case .message(var ranges) = slot else {
                slot = .message([range])
                return
            }
            slot = .empty
            ranges.append(range)
            slot = .message(ranges)
            return
        }
        if field.isRepeated {
            var values: [JSON]
            if case .list(let existing) = slot { values = existing } else { values = [] }
            slot = .empty
            if wireType == field.value.wireType {
                values.append(try value(field.value, wireType: wireType, from: &reader, depth: depth))
            } else if wireType == .lengthDelimited, case .scalar(let scalar) = field.value {
                // Packed repeated scalars: one length-delimited run of values.
                var packed = ProtobufReader(bytes: bytes, range: try reader.lengthDelimited())
                while !packed.isAtEnd {
                    values.append(try value(.scalar(scalar), wireType: scalar.wireType, from: &packed, depth: depth))
                }
            } else {
                throw wrongWireType(wireType, reader)
            }
            slot = .list(values)
            return
        }
        guard wireType == field.value.wireType else { throw wrongWireType(wireType, reader) }
        let decoded = try value(field.value, wireType: wireType, from: &reader, depth: depth)
        // Proto2 semantics: the last occurrence of a singular field wins.
        slot = field.omitsZero && Self.isZero(decoded) ? .empty : .value(decoded)
    }

    private func wrongWireType(_ wireType: ProtobufWireType, _ reader: ProtobufReader) -> ProtobufDecodeError {
        reader.error("unexpected wire type \(wireType.rawValue)")
    }

    /// Reads one value whose wire type has already been checked.
    private func value(
        _ type: ProtobufValueType, wireType: ProtobufWireType, from reader: inout ProtobufReader, depth: Int
    ) throws(ProtobufDecodeError) -> JSON {
        switch type {
        case .message(let index):
            let range = try reader.lengthDelimited()
            return try message(index, in: range, depth: depth + 1)
        case .scalar(let scalar):
            return try self.scalar(scalar, from: &reader)
        }
    }

    func scalar(_ scalar: ProtobufScalar, from reader: inout ProtobufReader) throws(ProtobufDecodeError) -> JSON {
        switch scalar {
        case .string: return .string(reader.string(try reader.lengthDelimited()))
        case .bytes: return .string(Base64.encode(bytes[try reader.lengthDelimited()]))
        case .bool: return .bool(try reader.varint() != 0)
        case .int32: return .int(Int64(Int32(truncatingIfNeeded: try reader.varint())))
        case .int64: return .int(Int64(bitPattern: try reader.varint()))
        case .uint32: return .int(Int64(UInt32(truncatingIfNeeded: try reader.varint())))
        case .uint64: return Self.unsigned(try reader.varint())
        case .sint32:
            let raw = UInt32(truncatingIfNeeded: try reader.varint())
            return .int(Int64(Int32(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))))
        case .sint64:
            let raw = try reader.varint()
            return .int(Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1))))
        case .fixed32: return .int(Int64(try reader.fixed32()))
        case .sfixed32: return .int(Int64(Int32(bitPattern: try reader.fixed32())))
        case .fixed64: return Self.unsigned(try reader.fixed64())
        case .sfixed64: return .int(Int64(bitPattern: try reader.fixed64()))
        case .float: return try Self.finite(Double(Float(bitPattern: try reader.fixed32())), reader)
        case .double: return try Self.finite(Double(bitPattern: try reader.fixed64()), reader)
        }
    }

    private static func unsigned(_ value: UInt64) -> JSON {
        value <= UInt64(Int64.max) ? .int(Int64(value)) : .double(Double(value))
    }

    /// JSON has no NaN or infinity; Go's encoder refuses them too.
    private static func finite(_ value: Double, _ reader: ProtobufReader) throws(ProtobufDecodeError) -> JSON {
        guard value.isFinite else { throw reader.error("floating-point value \(value) has no JSON form") }
        return .double(value)
    }

    private static func isZero(_ value: JSON) -> Bool {
        switch value {
        case .int(let number): return number == 0
        case .double(let number): return number == 0
        case .bool(let flag): return !flag
        case .string(let text): return text.isEmpty
        default: return false
        }
    }

    /// A map entry is a message with the key as field 1 and the value as field 2; either may be
    /// missing, meaning the type's zero value.
    private func mapEntry(
        key keyType: ProtobufScalar, value valueType: ProtobufValueType, in range: Range<Int>, depth: Int
    )
        throws(ProtobufDecodeError) -> (key: String, value: JSON)
    {
        // Go gives a missing key its type's zero value.
        var key = keyType == .string ? "" : keyType == .bool ? "false" : "0"
        var value: JSON?
        var reader = ProtobufReader(bytes: bytes, range: range)
        while !reader.isAtEnd {
            let (number, wireType) = try reader.tag()
            switch number {
            case 1:
                guard wireType == keyType.wireType else { throw wrongWireType(wireType, reader) }
                key = try mapKey(keyType, from: &reader)
            case 2:
                guard wireType == valueType.wireType else { throw wrongWireType(wireType, reader) }
                value = try self.value(valueType, wireType: wireType, from: &reader, depth: depth)
            default:
                try reader.skip(wireType)
            }
        }
        if let value { return (key, value) }
        switch valueType {
        case .message(let index):
            return (key, try message(index, in: range.upperBound..<range.upperBound, depth: depth + 1))
        case .scalar(let scalar):
            return (key, Self.zero(scalar))
        }
    }

    /// A map key as JSON writes it: Go's encoder prints integer keys in decimal.
    private func mapKey(_ type: ProtobufScalar, from reader: inout ProtobufReader) throws(ProtobufDecodeError)
        -> String
    {
        switch type {
        case .uint64: return String(try reader.varint())
        case .fixed64: return String(try reader.fixed64())
        default:
            switch try scalar(type, from: &reader) {
            case .string(let text): return text
            case .int(let number): return String(number)
            case .bool(let flag): return flag ? "true" : "false"
            case .double(let number): return String(number)
            default: return ""
            }
        }
    }

    private static func zero(_ scalar: ProtobufScalar) -> JSON {
        switch scalar {
        case .string, .bytes: return .string("")
        case .bool: return .bool(false)
        case .float, .double: return .double(0)
        default: return .int(0)
        }
    }

    /// Go decodes a map entry by assignment, so a repeated key keeps its last value.
    private static func lastKeyWins(_ entries: [(key: String, value: JSON)]) -> JSONObject {
        guard entries.count > 1 else { return JSONObject(entries) }
        var result: [(key: String, value: JSON)] = []
        result.reserveCapacity(entries.count)
        var positions: [String: Int] = [:]
        positions.reserveCapacity(entries.count)
        for entry in entries {
            if let position = positions[entry.key] {
                result[position].value = entry.value
            } else {
                positions[entry.key] = result.count
                result.append(entry)
            }
        }
        return JSONObject(result)
    }
}

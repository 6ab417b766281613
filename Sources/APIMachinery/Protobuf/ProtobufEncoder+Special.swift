/// The protobuf forms of apimachinery types whose Go JSON marshalling is custom, read from their JSON:
/// the mirror of `ProtobufDecoder.special`.
extension ProtobufEncoder {
    mutating func special(_ kind: ProtobufSpecial, _ value: JSON) throws(ProtobufEncodeError) {
        switch kind {
        case .time, .microtime:
            guard case .string(let text) = value else { throw Self.mismatch("a timestamp string", value) }
            guard let (seconds, nanos) = ProtobufTimeParsing.rfc3339(text) else {
                throw ProtobufEncodeError("\"\(text)\" is not an RFC 3339 time")
            }
            // metav1.Time keeps whole seconds on the wire; MicroTime keeps microseconds. Go's Timestamp
            // writes both of its fields.
            writer.field(1, varint: UInt64(bitPattern: seconds))
            let kept = kind == .time ? 0 : nanos / 1_000 * 1_000
            writer.field(2, varint: UInt64(bitPattern: Int64(kept)))
        case .duration:
            guard case .string(let text) = value else { throw Self.mismatch("a duration string", value) }
            guard let nanoseconds = ProtobufTimeParsing.goDuration(text) else {
                throw ProtobufEncodeError("\"\(text)\" is not a duration")
            }
            writer.field(1, varint: UInt64(bitPattern: nanoseconds))
        case .quantity:
            switch value {
            case .string(let text): writer.field(1, string: text)
            case .int(let number): writer.field(1, string: String(number))
            case .double: writer.field(1, string: String(decoding: value.encoded(), as: UTF8.self))
            default: throw Self.mismatch("a quantity", value)
            }
        case .intorstring:
            switch value {
            case .string(let text):
                writer.field(1, varint: 1)
                writer.field(2, varint: 0)
                writer.field(3, string: text)
            default:
                let number: Int64
                switch value {
                case .int(let integer): number = integer
                case .double(let real) where Int64(exactly: real) != nil: number = Int64(real)
                default: throw Self.mismatch("an integer or a string", value)
                }
                guard let narrow = Int32(exactly: number) else {
                    throw ProtobufEncodeError("\(number) does not fit an IntOrString's 32 bits")
                }
                writer.field(1, varint: 0)
                writer.field(2, varint: UInt64(bitPattern: Int64(narrow)))
                writer.field(3, bytes: EmptyCollection())
            }
        case .rawextension, .fieldsv1:
            // Objects served from JSON storage embed their JSON, as Go's RawExtension and FieldsV1 carry it.
            writer.field(1, bytes: value.encoded())
        case .list:
            guard case .array(let items) = value else { throw Self.mismatch("an array of strings", value) }
            for item in items {
                guard case .string(let text) = item else { throw Self.mismatch("a string", item) }
                writer.field(1, string: text)
            }
        }
    }
}

/// Reads the time and duration text Go writes, for the encoder.
enum ProtobufTimeParsing {
    /// Seconds since the epoch and the nanoseconds of an RFC 3339 time (`…05Z`, `…05.123456Z`, `…+02:00`).
    static func rfc3339(_ text: String) -> (seconds: Int64, nanos: Int32)? {
        guard let seconds = Timestamp.parse(text) else { return nil }
        let bytes = Array(text.utf8)
        var nanos: Int32 = 0
        if bytes.count > 20, bytes[19] == UInt8(ascii: ".") {
            var scale: Int32 = 100_000_000
            var index = 20
            while index < bytes.count, let digit = digit(bytes[index]) {
                nanos += Int32(digit) * scale
                scale /= 10
                index += 1
            }
        }
        return (seconds, nanos)
    }

    /// Nanoseconds of a Go duration (`1h2m3.5s`, `250ms`, `-1.5h`, `0`), or nil when malformed or out of range.
    static func goDuration(_ text: String) -> Int64? {
        var bytes = Array(text.utf8)[...]
        var negative = false
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        if bytes.elementsEqual("0".utf8) { return 0 }
        guard !bytes.isEmpty else { return nil }
        var total: Double = 0
        while !bytes.isEmpty {
            var whole: Double = 0
            var fraction: Double = 0
            var scale: Double = 0.1
            var sawDigit = false
            while let byte = bytes.first, let value = digit(byte) {
                whole = whole * 10 + Double(value)
                sawDigit = true
                bytes = bytes.dropFirst()
            }
            if bytes.first == UInt8(ascii: ".") {
                bytes = bytes.dropFirst()
                while let byte = bytes.first, let value = digit(byte) {
                    fraction += Double(value) * scale
                    scale /= 10
                    sawDigit = true
                    bytes = bytes.dropFirst()
                }
            }
            guard sawDigit else { return nil }
            var unit: [UInt8] = []
            while let byte = bytes.first, byte != UInt8(ascii: "."), digit(byte) == nil {
                unit.append(byte)
                bytes = bytes.dropFirst()
            }
            guard let nanosPerUnit = units[String(decoding: unit, as: UTF8.self)] else { return nil }
            total += (whole + fraction) * nanosPerUnit
        }
        guard total < 9.2e18 else { return nil }
        let nanoseconds = Int64(total.rounded())
        return negative ? -nanoseconds : nanoseconds
    }

    private static let units: [String: Double] = [
        "ns": 1, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3_600e9,
    ]

    private static func digit(_ byte: UInt8) -> UInt8? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? byte - UInt8(ascii: "0") : nil
    }
}

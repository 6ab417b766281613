/// The JSON forms of apimachinery types whose Go JSON marshalling is custom (Time, Quantity,
/// IntOrString, ...), read from their protobuf fields.
extension ProtobufDecoder {
    func special(_ kind: ProtobufSpecial, in range: Range<Int>, depth: Int) throws(ProtobufDecodeError) -> JSON {
        switch kind {
        case .time:
            // An empty message is Go's zero time, which metav1.Time writes as null. Go keeps only
            // the seconds when it reads a Time from protobuf.
            guard !range.isEmpty else { return .null }
            var seconds: Int64 = 0
            try eachField(in: range) { (number, reader) throws(ProtobufDecodeError) in
                let raw = try reader.varint()
                if number == 1 { seconds = Int64(bitPattern: raw) }
            } expecting: {
                $0 <= 2 ? .varint : nil
            }
            return .string(ProtobufTime.rfc3339(seconds: seconds, nanos: nil))
        case .microtime:
            guard !range.isEmpty else { return .null }
            var seconds: Int64 = 0
            var nanos: Int64 = 0
            try eachField(in: range) { (number, reader) throws(ProtobufDecodeError) in
                let raw = try reader.varint()
                if number == 1 { seconds = Int64(bitPattern: raw) }
                if number == 2 { nanos = Int64(Int32(truncatingIfNeeded: raw)) }
            } expecting: {
                $0 <= 2 ? .varint : nil
            }
            return .string(ProtobufTime.rfc3339(seconds: seconds, nanos: nanos))
        case .duration:
            var nanoseconds: Int64 = 0
            try eachField(in: range) { (_, reader) throws(ProtobufDecodeError) in
                nanoseconds = Int64(bitPattern: try reader.varint())
            } expecting: {
                $0 == 1 ? .varint : nil
            }
            return .string(ProtobufTime.goDuration(nanoseconds))
        case .quantity:
            // Go re-prints a parsed Quantity in canonical form; we keep the client's spelling.
            var text = "0"
            try eachField(in: range) { (_, reader) throws(ProtobufDecodeError) in
                text = reader.string(try reader.lengthDelimited())
            } expecting: {
                $0 == 1 ? .lengthDelimited : nil
            }
            return .string(text)
        case .intorstring:
            var type: UInt64 = 0
            var intValue: Int64 = 0
            var stringValue = ""
            try eachField(in: range) { (number, reader) throws(ProtobufDecodeError) in
                switch number {
                case 1: type = try reader.varint()
                case 2: intValue = Int64(Int32(truncatingIfNeeded: try reader.varint()))
                default: stringValue = reader.string(try reader.lengthDelimited())
                }
            } expecting: {
                $0 == 3 ? .lengthDelimited : $0 < 3 ? .varint : nil
            }
            switch type {
            case 0: return .int(intValue)
            case 1: return .string(stringValue)
            default:
                throw ProtobufDecodeError(
                    .malformed, "IntOrString type \(type) is neither 0 nor 1", offset: range.lowerBound)
            }
        case .rawextension, .fieldsv1:
            var raw: Range<Int>?
            try eachField(in: range) { (_, reader) throws(ProtobufDecodeError) in
                raw = try reader.lengthDelimited()
            } expecting: {
                $0 == 1 ? .lengthDelimited : nil
            }
            guard let raw, !raw.isEmpty else { return .null }
            return try embedded(raw, depth: depth)
        case .list:
            var items: [JSON] = []
            try eachField(in: range) { (_, reader) throws(ProtobufDecodeError) in
                items.append(.string(reader.string(try reader.lengthDelimited())))
            } expecting: {
                $0 == 1 ? .lengthDelimited : nil
            }
            return .array(items)
        }
    }

    /// Bytes that hold a whole object: JSON as Go writes RawExtension and FieldsV1, or a nested
    /// protobuf envelope when a protobuf client embedded one; anything else becomes base64.
    private func embedded(_ range: Range<Int>, depth: Int) throws(ProtobufDecodeError) -> JSON {
        if range.count >= KubernetesProtobuf.magic.count,
            bytes[range.lowerBound..<(range.lowerBound + KubernetesProtobuf.magic.count)]
                .elementsEqual(KubernetesProtobuf.magic)
        {
            return try envelope(in: range, depth: depth + 1).object
        }
        if let json = try? JSON.parse(bytes[range]) { return json }
        return .string(Base64.encode(bytes[range]))
    }

    /// Walks the fields of a small fixed-shape message: a field `expecting` knows must use the
    /// wire type it gives and is handed to `body`; others are skipped.
    private func eachField(
        in range: Range<Int>, _ body: (Int, inout ProtobufReader) throws(ProtobufDecodeError) -> Void,
        expecting: (Int) -> ProtobufWireType?
    ) throws(ProtobufDecodeError) {
        var reader = ProtobufReader(bytes: bytes, range: range)
        while !reader.isAtEnd {
            let (number, wireType) = try reader.tag()
            guard let expected = expecting(number) else {
                try reader.skip(wireType)
                continue
            }
            guard wireType == expected else { throw reader.error("unexpected wire type \(wireType.rawValue)") }
            try body(number, &reader)
        }
    }
}

/// Time and duration text as Go prints it.
enum ProtobufTime {
    /// `2024-01-02T03:04:05Z`, or with `nanos` the microsecond form `2024-01-02T03:04:05.123456Z`
    /// (metav1.MicroTime). Out-of-range nanoseconds carry into seconds as Go's time.Unix does.
    static func rfc3339(seconds rawSeconds: Int64, nanos rawNanos: Int64?) -> String {
        var seconds = rawSeconds
        var nanos = rawNanos ?? 0
        if nanos < 0 || nanos >= 1_000_000_000 {
            seconds = seconds &+ nanos / 1_000_000_000
            nanos %= 1_000_000_000
            if nanos < 0 {
                nanos += 1_000_000_000
                seconds = seconds &- 1
            }
        }
        var (days, secondOfDay) = seconds.quotientAndRemainder(dividingBy: 86_400)
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        // Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's civil_from_days).
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)

        var out: [UInt8] = []
        out.reserveCapacity(28)
        if year < 0 { out.append(UInt8(ascii: "-")) }
        append(year.magnitude, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        append(UInt64(month), width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        append(UInt64(day), width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        append(UInt64(secondOfDay / 3_600), width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        append(UInt64(secondOfDay / 60 % 60), width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        append(UInt64(secondOfDay % 60), width: 2, to: &out)
        if rawNanos != nil {
            out.append(UInt8(ascii: "."))
            append(UInt64(nanos / 1_000), width: 6, to: &out)
        }
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    private static func append(_ value: UInt64, width: Int, to out: inout [UInt8]) {
        let digits = Array(String(value).utf8)
        if digits.count < width {
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - digits.count))
        }
        out.append(contentsOf: digits)
    }

    /// Go's `time.Duration.String()`: "1h0m0s", "1.5s", "250ms", "0s".
    static func goDuration(_ nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        var buffer = [UInt8](repeating: 0, count: 32)
        var cursor = buffer.count
        var value = nanoseconds.magnitude
        func put(_ byte: UInt8) {
            cursor -= 1
            buffer[cursor] = byte
        }
        func putInteger(_ number: UInt64) {
            var number = number
            repeat {
                put(UInt8(ascii: "0") + UInt8(number % 10))
                number /= 10
            } while number > 0
        }
        // Writes the low `precision` digits as a fraction without trailing zeros, and drops them.
        func putFraction(_ precision: Int) {
            var printing = false
            for _ in 0..<precision {
                let digit = UInt8(value % 10)
                printing = printing || digit != 0
                if printing { put(UInt8(ascii: "0") + digit) }
                value /= 10
            }
            if printing { put(UInt8(ascii: ".")) }
        }
        put(UInt8(ascii: "s"))
        if value < 1_000_000_000 {
            let precision: Int
            if value < 1_000 {
                precision = 0
                put(UInt8(ascii: "n"))
            } else if value < 1_000_000 {
                precision = 3
                put(0xB5)  // "µ" in UTF-8, written backwards
                put(0xC2)
            } else {
                precision = 6
                put(UInt8(ascii: "m"))
            }
            putFraction(precision)
            putInteger(value)
        } else {
            putFraction(9)
            putInteger(value % 60)
            value /= 60
            if value > 0 {
                put(UInt8(ascii: "m"))
                putInteger(value % 60)
                value /= 60
                if value > 0 {
                    put(UInt8(ascii: "h"))
                    putInteger(value)
                }
            }
        }
        if nanoseconds < 0 { put(UInt8(ascii: "-")) }
        return String(decoding: buffer[cursor...], as: UTF8.self)
    }
}

/// Standard base64 with padding, as Go's encoding/json writes `[]byte`.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ input: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var index = input.startIndex
        while index < input.endIndex {
            let remaining = input.endIndex - index
            let first = UInt32(input[index])
            let second = remaining > 1 ? UInt32(input[index + 1]) : 0
            let third = remaining > 2 ? UInt32(input[index + 2]) : 0
            let group = first << 16 | second << 8 | third
            out.append(alphabet[Int(group >> 18 & 63)])
            out.append(alphabet[Int(group >> 12 & 63)])
            out.append(remaining > 1 ? alphabet[Int(group >> 6 & 63)] : UInt8(ascii: "="))
            out.append(remaining > 2 ? alphabet[Int(group & 63)] : UInt8(ascii: "="))
            index += min(3, remaining)
        }
        return String(decoding: out, as: UTF8.self)
    }
}

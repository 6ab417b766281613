extension JSON {
    /// Compact JSON bytes, keys in stored order.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        encode(into: &out)
        return out
    }

    /// Compact JSON text.
    public var jsonString: String { String(decoding: encoded(), as: UTF8.self) }

    /// Appends compact JSON to `out`.
    public func encode(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let value):
            if value {
                out.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
            } else {
                out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
            }
        case .int(let value): out.append(contentsOf: String(value).utf8)
        case .double(let value): Self.encodeDouble(value, into: &out)
        case .string(let value): Self.encodeString(value, into: &out)
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (offset, value) in values.enumerated() {
                if offset > 0 { out.append(UInt8(ascii: ",")) }
                value.encode(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (offset, entry) in object.entries.enumerated() {
                if offset > 0 { out.append(UInt8(ascii: ",")) }
                Self.encodeString(entry.key, into: &out)
                out.append(UInt8(ascii: ":"))
                entry.value.encode(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Integral doubles print without a fraction, as Go prints float64 values that hold integers.
    static func encodeDouble(_ value: Double, into out: inout [UInt8]) {
        guard value.isFinite else {
            out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
            return
        }
        if value.rounded() == value, abs(value) < 1e15 {
            out.append(contentsOf: String(Int64(value)).utf8)
        } else {
            out.append(contentsOf: "\(value)".utf8)
        }
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Escapes like Go's encoder: quotes, backslashes, control bytes, and <, >, &, U+2028 and U+2029 as \u
    /// escapes. Runs without any are found eight bytes at a time and copied whole.
    public static func encodeString(_ string: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { buffer in
            var runStart = 0
            var index = 0
            while true {
                index = ByteScan.firstEscapeCandidate(buffer, from: index)
                guard index < buffer.count else { break }
                let byte = buffer[index]
                if byte == 0xE2 {
                    // U+2028 and U+2029 (E2 80 A8/A9) end a line in JavaScript; other E2 sequences pass.
                    guard index + 2 < buffer.count, buffer[index + 1] == 0x80, buffer[index + 2] & 0xFE == 0xA8 else {
                        index += 1
                        continue
                    }
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<index]))
                    out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), 0x32, 0x30, 0x32])
                    out.append(buffer[index + 2] == 0xA8 ? UInt8(ascii: "8") : UInt8(ascii: "9"))
                    index += 3
                    runStart = index
                    continue
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<index]))
                index += 1
                runStart = index
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
                case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                default:
                    out.append(contentsOf: [
                        UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                    ])
                    out.append(hexDigits[Int(byte >> 4)])
                    out.append(hexDigits[Int(byte & 0xF)])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<buffer.count]))
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension ByteScan {
    /// The offset of the first byte at or after `start` that may need escaping (`"`, `\`, a control byte,
    /// `<`, `>`, `&`, or 0xE2, which starts U+2028 and U+2029), or `bytes.count`.
    @inline(__always)
    static func firstEscapeCandidate(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var offset = start
        while offset + 8 <= bytes.count {
            let word = word(bytes, offset)
            let found =
                equal(word, UInt8(ascii: "\"")) | equal(word, UInt8(ascii: "\\")) | below(word, 0x20)
                | equal(word, UInt8(ascii: "<")) | equal(word, UInt8(ascii: ">")) | equal(word, UInt8(ascii: "&"))
                | equal(word, 0xE2)
            if found != 0 { return offset + found.trailingZeroBitCount >> 3 }
            offset += 8
        }
        while offset < bytes.count {
            switch bytes[offset] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0..<0x20, UInt8(ascii: "<"), UInt8(ascii: ">"),
                UInt8(ascii: "&"), 0xE2:
                return offset
            default: offset += 1
            }
        }
        return offset
    }
}

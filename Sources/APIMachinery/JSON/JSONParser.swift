/// A malformed JSON document; the message reads like Go's encoding/json, which clients expect to see quoted.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public var description: String { message }
}

extension JSON {
    /// Parses one JSON document; trailing non-space bytes are an error. Depth is bounded so hostile
    /// input cannot exhaust the stack.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSON {
        try parse(bytes, skipping: [])
    }

    /// Parses one JSON document, leaving out the member at `path` (object keys from the top, such as
    /// `["object", "metadata", "managedFields"]`): its value is checked for balanced brackets and strings but
    /// never built, for a reader that would drop it anyway. An empty path leaves nothing out.
    public static func parse(_ bytes: some Collection<UInt8>, skipping path: [String]) throws(JSONParseError)
        -> JSON
    {
        let parsed = bytes.withContiguousStorageIfAvailable { buffer in
            JSONParser.parse(buffer, skipping: path)
        }
        let result = parsed ?? Array(bytes).withUnsafeBufferPointer { JSONParser.parse($0, skipping: path) }
        return try result.get()
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSON {
        try parse(Array(text.utf8))
    }
}

/// A recursive-descent parser over bytes; for a duplicate key the last value wins, as in Go. An object's or
/// array's members are collected on one stack shared by the whole document and moved into an array of
/// exactly their count when it closes, so no container is grown (and copied) member by member.
struct JSONParser: ~Copyable {
    static let maxDepth = 512

    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var depth = 0
    /// The member path left out, and how much of it the enclosing keys match (-1: off the path).
    let skipPath: [String]
    var members = MemberStack<(key: String, value: JSON)>()
    var elements = MemberStack<JSON>()

    init(bytes: UnsafeBufferPointer<UInt8>, skipping path: [String]) {
        self.bytes = bytes
        skipPath = path
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, skipping path: [String]) -> Result<JSON, JSONParseError> {
        var parser = JSONParser(bytes: bytes, skipping: path)
        do throws(JSONParseError) {
            return .success(try parser.parseDocument())
        } catch {
            return .failure(error)
        }
    }

    mutating func parseDocument() throws(JSONParseError) -> JSON {
        skipSpace()
        guard index < bytes.count else { throw error("unexpected end of JSON input") }
        let value = try parseValue(onPath: skipPath.isEmpty ? -1 : 0)
        skipSpace()
        if index < bytes.count {
            throw error("invalid character \(quoted(bytes[index])) after top-level value")
        }
        return value
    }

    func error(_ message: String) -> JSONParseError { JSONParseError(message: message, offset: index) }

    func quoted(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "'"): return "'\\''"
        case UInt8(ascii: "\""): return "'\"'"
        case 0x20..<0x7F: return "'\(Character(Unicode.Scalar(byte)))'"
        default: return "'\\x\(String(byte, radix: 16, uppercase: false))'"
        }
    }

    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// `onPath`: how many keys of the skipped path the enclosing objects matched, or -1.
    mutating func parseValue(onPath: Int = -1) throws(JSONParseError) -> JSON {
        guard index < bytes.count else { throw error("unexpected end of JSON input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(onPath: onPath)
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try parseLiteral("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("invalid character \(quoted(bytes[index])) looking for beginning of value")
        }
    }

    mutating func parseLiteral(_ word: StaticString, _ value: JSON) throws(JSONParseError) -> JSON {
        let count = word.utf8CodeUnitCount
        let start = word.utf8Start
        for offset in 0..<count {
            guard index + offset < bytes.count else { throw error("unexpected end of JSON input") }
            if bytes[index + offset] != start[offset] {
                index += offset
                throw error(
                    "invalid character \(quoted(bytes[index])) in literal \(word) (expecting '\(Character(Unicode.Scalar(start[offset])))')"
                )
            }
        }
        index += count
        return value
    }

    mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > Self.maxDepth { throw error("exceeded max depth") }
    }

    mutating func parseObject(onPath: Int) throws(JSONParseError) -> JSON {
        try enter()
        defer { depth -= 1 }
        index += 1
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(JSONObject())
        }
        let base = members.count
        while true {
            skipSpace()
            guard index < bytes.count else { throw error("unexpected end of JSON input") }
            guard bytes[index] == UInt8(ascii: "\"") else {
                throw error("invalid character \(quoted(bytes[index])) looking for beginning of object key string")
            }
            let key = try parseString()
            skipSpace()
            guard index < bytes.count else { throw error("unexpected end of JSON input") }
            guard bytes[index] == UInt8(ascii: ":") else {
                throw error("invalid character \(quoted(bytes[index])) after object key")
            }
            index += 1
            skipSpace()
            if onPath >= 0, key == skipPath[onPath] {
                if onPath + 1 == skipPath.count {
                    try skipValue()
                } else {
                    let value = try parseValue(onPath: onPath + 1)
                    append(key, value, from: base)
                }
            } else {
                let value = try parseValue()
                append(key, value, from: base)
            }
            skipSpace()
            guard index < bytes.count else { throw error("unexpected end of JSON input") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return .object(JSONObject(members.pop(from: base)))
            default: throw error("invalid character \(quoted(bytes[index])) after object key:value pair")
            }
        }
    }

    /// Adds a member to the object collected from `base`; a repeated key replaces the earlier value in place.
    private mutating func append(_ key: String, _ value: JSON, from base: Int) {
        let length = key.utf8.count
        for offset in base..<members.count where members[offset].key.utf8.count == length {
            if members[offset].key == key {
                members[offset].value = value
                return
            }
        }
        members.push((key, value))
    }

    mutating func parseArray() throws(JSONParseError) -> JSON {
        try enter()
        defer { depth -= 1 }
        index += 1
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array([])
        }
        let base = elements.count
        while true {
            skipSpace()
            elements.push(try parseValue())
            skipSpace()
            guard index < bytes.count else { throw error("unexpected end of JSON input") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return .array(elements.pop(from: base))
            default: throw error("invalid character \(quoted(bytes[index])) after array element")
            }
        }
    }

    mutating func parseNumber() throws(JSONParseError) -> JSON {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw error("unexpected end of JSON input") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(bytes[index]) {
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        } else {
            throw error("invalid character \(quoted(bytes[index])) in numeric literal")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            try digits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            try digits()
        }
        if isInteger, let value = smallInteger(start..<index) { return .int(value) }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger, let value = Int64(text) { return .int(value) }
        guard let value = Double(text), value.isFinite else {
            throw JSONParseError(message: "number \(text) out of range", offset: start)
        }
        return .double(value)
    }

    /// An integer of at most 18 digits, which cannot overflow, read without making a String first.
    private func smallInteger(_ range: Range<Int>) -> Int64? {
        var offset = range.lowerBound
        let negative = bytes[offset] == UInt8(ascii: "-")
        if negative { offset += 1 }
        guard range.upperBound - offset <= 18 else { return nil }
        var value: Int64 = 0
        while offset < range.upperBound {
            value = value &* 10 &+ Int64(bytes[offset] &- UInt8(ascii: "0"))
            offset += 1
        }
        return negative ? -value : value
    }

    mutating func digits() throws(JSONParseError) {
        guard index < bytes.count else { throw error("unexpected end of JSON input") }
        guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else {
            throw error("invalid character \(quoted(bytes[index])) in numeric literal")
        }
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
    }
}

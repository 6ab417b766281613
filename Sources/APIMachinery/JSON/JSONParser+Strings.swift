extension JSONParser {
    mutating func parseString() throws(JSONParseError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes. Decoding from a buffer pointer takes the standard library's specialized
        // UTF-8 path (invalid sequences become U+FFFD).
        index = ByteScan.firstStringSpecial(bytes, from: index)
        guard index < bytes.count else { throw error("unexpected end of JSON input") }
        let stop = bytes[index]
        if stop == UInt8(ascii: "\"") {
            index += 1
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index - 1]), as: UTF8.self)
        }
        if stop < 0x20 { throw error("invalid character \(quoted(stop)) in string literal") }
        var scratch = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("unexpected end of JSON input") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scratch.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): scratch.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): scratch.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                        bytes[index + 1] == UInt8(ascii: "u")
                    {
                        let save = index
                        index += 2
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            index = save
                        }
                    }
                    // Lone surrogates become U+FFFD, as Go does.
                    let value = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                    scratch.append(contentsOf: Array(String(Character(value)).utf8))
                default:
                    index -= 1
                    throw error("invalid character \(quoted(escape)) in string escape code")
                }
            default:
                if byte < 0x20 { throw error("invalid character \(quoted(byte)) in string literal") }
                let end = ByteScan.firstStringSpecial(bytes, from: index + 1)
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[index..<end]))
                index = end
            }
        }
        throw error("unexpected end of JSON input")
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count else { throw error("unexpected end of JSON input") }
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid character \(quoted(byte)) in \\u hexadecimal character escape")
            }
            value = value * 16 + digit
            index += 1
        }
        return value
    }

    /// Steps over one value without building it: a container by its brackets and strings (not validated
    /// further: what is skipped is dropped), a scalar by parsing it.
    mutating func skipValue() throws(JSONParseError) {
        guard index < bytes.count else { throw error("unexpected end of JSON input") }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            try skipString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var nesting = 0
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    try skipString()
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    nesting += 1
                    if depth + nesting > Self.maxDepth { throw error("exceeded max depth") }
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    nesting -= 1
                    if nesting == 0 {
                        index += 1
                        return
                    }
                default: break
                }
                index += 1
            }
            throw error("unexpected end of JSON input")
        default:
            _ = try parseValue()
        }
    }

    /// Steps over a string starting at its opening quote.
    mutating func skipString() throws(JSONParseError) {
        index += 1
        while true {
            index = ByteScan.firstStringSpecial(bytes, from: index)
            guard index < bytes.count else { throw error("unexpected end of JSON input") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return
            }
            if byte < 0x20 { throw error("invalid character \(quoted(byte)) in string literal") }
            index += 2
        }
    }
}

/// Growable storage for the members of the containers being parsed, moved out (not copied) when one closes.
struct MemberStack<Element>: ~Copyable {
    private var storage: UnsafeMutablePointer<Element>
    private var capacity = 64
    private(set) var count = 0

    init() { storage = .allocate(capacity: 64) }

    deinit {
        storage.deinitialize(count: count)
        storage.deallocate()
    }

    subscript(offset: Int) -> Element {
        unsafeAddress { UnsafePointer(storage + offset) }
        unsafeMutableAddress { storage + offset }
    }

    mutating func push(_ element: Element) {
        if count == capacity {
            let grown = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
            grown.moveInitialize(from: storage, count: count)
            storage.deallocate()
            storage = grown
            capacity *= 2
        }
        (storage + count).initialize(to: element)
        count += 1
    }

    /// The elements from `base` on, as an array of exactly their count; the stack ends at `base`.
    mutating func pop(from base: Int) -> [Element] {
        // Appending moved elements to a reserved array, rather than initializing its buffer in place, keeps to
        // the array code specialized for `Element`: the in-place initializer looked the array's type metadata up
        // at run time for every container.
        var array: [Element] = []
        array.reserveCapacity(count - base)
        for offset in base..<count { array.append((storage + offset).move()) }
        count = base
        return array
    }
}

/// Finds the bytes JSON strings treat specially eight at a time: most strings have none, and a byte loop
/// comparing each byte with every special one was most of the time spent on strings.
enum ByteScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// High bit set in each byte of `word` below `limit` (at most 0x80); the lowest one set is exact, higher
    /// ones may be set by a borrow.
    @inline(__always)
    static func below(_ word: UInt64, _ limit: UInt8) -> UInt64 {
        (word &- ones &* UInt64(limit)) & ~word & highs
    }

    /// High bit set in each byte of `word` equal to `byte` (the lowest exactly, as `below`).
    @inline(__always)
    static func equal(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        below(word ^ (ones &* UInt64(byte)), 1)
    }

    /// Eight bytes from `offset`, the first in the lowest byte.
    @inline(__always)
    static func word(_ bytes: UnsafeBufferPointer<UInt8>, _ offset: Int) -> UInt64 {
        UInt64(
            littleEndian: UnsafeRawPointer(bytes.baseAddress.unsafelyUnwrapped + offset).loadUnaligned(as: UInt64.self))
    }

    /// The offset of the first `"`, `\` or control byte at or after `start`, or `bytes.count`.
    @inline(__always)
    static func firstStringSpecial(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var offset = start
        while offset + 8 <= bytes.count {
            let word = word(bytes, offset)
            let found = equal(word, UInt8(ascii: "\"")) | equal(word, UInt8(ascii: "\\")) | below(word, 0x20)
            if found != 0 { return offset + found.trailingZeroBitCount >> 3 }
            offset += 8
        }
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { return offset }
            offset += 1
        }
        return offset
    }
}

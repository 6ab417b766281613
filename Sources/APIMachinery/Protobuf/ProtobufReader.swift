/// A malformed or unsupported Kubernetes protobuf body.
public struct ProtobufDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why decoding stopped; the API server answers `malformed` with 400 and the others with 415.
    public enum Reason: Sendable, Equatable {
        /// The bytes are not a valid encoding (truncated, wrong wire type, too deep, ...).
        case malformed
        /// The envelope names an apiVersion/kind we have no protobuf schema for.
        case unsupportedKind
        /// The envelope's contentEncoding or contentType is not plain protobuf.
        case unsupportedEncoding
    }

    public var reason: Reason
    public var message: String
    /// Byte offset into the body where the problem was found, when known.
    public var offset: Int?
    /// JSON path of the field being decoded, e.g. `spec.template.spec.containers`.
    public var path: String

    public init(_ reason: Reason, _ message: String, offset: Int? = nil, path: String = "") {
        self.reason = reason
        self.message = message
        self.offset = offset
        self.path = path
    }

    public var description: String {
        var text = "protobuf: " + message
        if !path.isEmpty { text += " in field " + path }
        if let offset { text += " at byte \(offset)" }
        return text
    }

    /// The same error seen from the enclosing field, so the path reads outermost first.
    func inside(_ field: String) -> ProtobufDecodeError {
        guard !field.isEmpty else { return self }
        var copy = self
        copy.path = path.isEmpty ? field : field + "." + path
        return copy
    }
}

/// Protobuf wire types (the low three bits of a field tag).
package enum ProtobufWireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// Reads protobuf wire primitives from a window of a shared byte array. Every read checks the
/// window's end, so a hostile length or truncated varint throws instead of trapping.
struct ProtobufReader {
    let bytes: [UInt8]
    private(set) var offset: Int
    let end: Int

    init(bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.offset = range.lowerBound
        self.end = range.upperBound
    }

    var isAtEnd: Bool { offset >= end }

    func error(_ message: String) -> ProtobufDecodeError {
        ProtobufDecodeError(.malformed, message, offset: offset)
    }

    /// A base-128 varint; like Go's generated code, at most ten bytes and high bits past 64 dropped.
    mutating func varint() throws(ProtobufDecodeError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw error("truncated varint") }
            guard shift < 64 else { throw error("varint longer than ten bytes") }
            let byte = bytes[offset]
            offset += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    /// A field tag: its number (1 ... 2^29-1) and wire type.
    mutating func tag() throws(ProtobufDecodeError) -> (number: Int, wireType: ProtobufWireType) {
        let start = offset
        let raw = try varint()
        let number = raw >> 3
        guard number > 0, number < 1 << 29 else {
            throw ProtobufDecodeError(.malformed, "invalid field number \(number)", offset: start)
        }
        guard let wireType = ProtobufWireType(rawValue: UInt8(raw & 7)) else {
            throw ProtobufDecodeError(.malformed, "invalid wire type \(raw & 7)", offset: start)
        }
        return (Int(number), wireType)
    }

    mutating func fixed32() throws(ProtobufDecodeError) -> UInt32 {
        guard end - offset >= 4 else { throw error("truncated fixed32") }
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(bytes[offset + index]) << (8 * UInt32(index)) }
        offset += 4
        return value
    }

    mutating func fixed64() throws(ProtobufDecodeError) -> UInt64 {
        guard end - offset >= 8 else { throw error("truncated fixed64") }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
        offset += 8
        return value
    }

    /// The byte range of a length-delimited value, which must lie inside the window.
    mutating func lengthDelimited() throws(ProtobufDecodeError) -> Range<Int> {
        let start = offset
        let length = try varint()
        guard length <= UInt64(end - offset) else {
            throw ProtobufDecodeError(.malformed, "length \(length) runs past the end of its message", offset: start)
        }
        let range = offset..<(offset + Int(length))
        offset = range.upperBound
        return range
    }

    /// Skips a field we do not know; groups are long obsolete and Kubernetes never writes them.
    mutating func skip(_ wireType: ProtobufWireType) throws(ProtobufDecodeError) {
        switch wireType {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .lengthDelimited: _ = try lengthDelimited()
        case .fixed32: _ = try fixed32()
        case .startGroup, .endGroup: throw error("protobuf groups are not supported")
        }
    }

    /// The string in `range`; invalid UTF-8 becomes U+FFFD, as Go's JSON encoder writes it.
    func string(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }
}

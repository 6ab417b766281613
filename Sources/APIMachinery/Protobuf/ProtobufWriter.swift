/// An object that cannot be written as Kubernetes protobuf: a value whose JSON type does not fit its field.
public struct ProtobufEncodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// JSON path of the field being encoded, e.g. `spec.containers.ports`.
    public var path: String

    public init(_ message: String, path: String = "") {
        self.message = message
        self.path = path
    }

    public var description: String {
        path.isEmpty ? "protobuf: " + message : "protobuf: " + message + " in field " + path
    }

    /// The same error seen from the enclosing field, so the path reads outermost first.
    func inside(_ field: String) -> ProtobufEncodeError {
        guard !field.isEmpty else { return self }
        var copy = self
        copy.path = path.isEmpty ? field : field + "." + path
        return copy
    }
}

/// Appends protobuf wire primitives to one growing buffer. A nested message is written in place after a
/// one-byte length slot, which is widened afterwards only for messages of 128 bytes or more, so small
/// messages are never copied and large ones are moved once per level.
package struct ProtobufWriter {
    package var bytes: [UInt8] = []

    package init() {}

    package mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    package mutating func tag(_ number: Int, _ wireType: ProtobufWireType) {
        varint(UInt64(number) << 3 | UInt64(wireType.rawValue))
    }

    package mutating func fixed32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    package mutating func fixed64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    /// A length-delimited field holding `content` as it is.
    package mutating func field(_ number: Int, bytes content: some Collection<UInt8>) {
        tag(number, .lengthDelimited)
        varint(UInt64(content.count))
        bytes.append(contentsOf: content)
    }

    package mutating func field(_ number: Int, string: String) {
        var string = string
        string.withUTF8 { field(number, bytes: $0) }
    }

    package mutating func field(_ number: Int, varint value: UInt64) {
        tag(number, .varint)
        varint(value)
    }

    /// Opens a length-delimited field whose content follows; returns the content's start for `end`.
    package mutating func begin(_ number: Int) -> Int {
        tag(number, .lengthDelimited)
        bytes.append(0)
        return bytes.count
    }

    /// Closes the field `begin` opened by writing its length into the slot before `start`.
    package mutating func end(_ start: Int) {
        let length = bytes.count - start
        if length < 0x80 {
            bytes[start - 1] = UInt8(length)
            return
        }
        var prefix: [UInt8] = []
        var value = UInt64(length)
        while value >= 0x80 {
            prefix.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        prefix.append(UInt8(value))
        bytes[start - 1] = prefix[0]
        bytes.insert(contentsOf: prefix[1...], at: start)
    }

    /// Drops a field `begin` opened, tag included, when it turned out to have nothing to say.
    package mutating func cancel(_ start: Int, number: Int) {
        var tagLength = 1
        var tag = UInt64(number) << 3 | UInt64(ProtobufWireType.lengthDelimited.rawValue)
        while tag >= 0x80 {
            tagLength += 1
            tag >>= 7
        }
        bytes.removeSubrange((start - 1 - tagLength)...)
    }
}

/// Standard base64 as Go's encoding/json reads `[]byte` (padding required; line breaks ignored).
enum Base64Decoding {
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = UInt8(index)
        }
        return table
    }()

    static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count / 4 * 3)
        var group: UInt32 = 0
        var count = 0
        var padding = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") { continue }
            if byte == UInt8(ascii: "=") {
                padding += 1
                group <<= 6
                count += 1
            } else {
                let value = values[Int(byte)]
                guard value != 0xFF, padding == 0 else { return nil }
                group = group << 6 | UInt32(value)
                count += 1
            }
            if count == 4 {
                guard padding <= 2 else { return nil }
                output.append(UInt8(truncatingIfNeeded: group >> 16))
                if padding < 2 { output.append(UInt8(truncatingIfNeeded: group >> 8)) }
                if padding < 1 { output.append(UInt8(truncatingIfNeeded: group)) }
                group = 0
                count = 0
                if padding > 0 { padding = 3 }  // nothing may follow a padded group
            }
        }
        return count == 0 ? output : nil
    }
}

import NIOCore

/// gRPC's length-prefixed messages: one flag byte (compressed or not), a 4-byte big-endian length,
/// then the message. We never ask for compression, so a compressed message is a protocol error.
enum GRPCFraming {
    /// The largest message accepted: etcd's default `--max-request-bytes` is 1.5 MiB, but a range
    /// answer can be far larger (a LIST of many objects), as etcd's Go client also allows (2 GiB).
    static let maximumMessageSize = Int(Int32.max)

    static func frame(_ message: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 5 + message.readableBytes)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(message.readableBytes))
        buffer.writeImmutableBuffer(message)
        return buffer
    }
}

/// Reassembles messages from DATA frames that may split or merge them.
struct GRPCMessageReader {
    private var buffer: ByteBuffer?

    /// Appends `bytes` and returns the messages completed by them.
    mutating func append(_ bytes: ByteBuffer) throws(GRPCStatusError) -> [ByteBuffer] {
        if buffer == nil || buffer?.readableBytes == 0 {
            buffer = bytes
        } else {
            var incoming = bytes
            buffer?.writeBuffer(&incoming)
        }
        var messages: [ByteBuffer] = []
        while let message = try next() { messages.append(message) }
        if buffer?.readableBytes == 0 { buffer = nil }
        return messages
    }

    /// True when a message was started and not finished.
    var hasPartialMessage: Bool { (buffer?.readableBytes ?? 0) > 0 }

    private mutating func next() throws(GRPCStatusError) -> ByteBuffer? {
        guard var view = buffer, view.readableBytes >= 5,
            let compressed = view.readInteger(as: UInt8.self), let length = view.readInteger(as: UInt32.self)
        else { return nil }
        guard compressed == 0 else {
            throw GRPCStatusError(code: .internal, message: "compressed message received without compression")
        }
        guard Int(length) <= GRPCFraming.maximumMessageSize else {
            throw GRPCStatusError(code: .resourceExhausted, message: "message of \(length) bytes is too large")
        }
        guard let message = view.readSlice(length: Int(length)) else { return nil }
        buffer = view
        return message
    }
}

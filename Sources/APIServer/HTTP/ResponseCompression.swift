import CompressNIO
import Foundation
import NIOCore
import NIOHTTP1

/// Upstream's APIResponseCompression (beta and on by default since 1.16): a response body larger than
/// 128 KiB is gzipped when the request's `Accept-Encoding` names gzip, with `Content-Encoding: gzip` and
/// `Vary: Accept-Encoding`. Watches are never compressed, nor a body that already has a Content-Encoding
/// (a proxied one).
struct ResponseCompression: Sendable {
    /// Bodies up to this size go out as they are (upstream's defaultGzipThresholdBytes).
    static let thresholdBytes = 128 * 1024

    /// Off with `--feature-gates=APIResponseCompression=false`.
    var enabled: Bool

    /// Whether the client takes gzip, read as upstream reads it: the first `Accept-Encoding` header's
    /// comma-separated tokens, one of them exactly `gzip` (so `gzip;q=0.5` is not one).
    func negotiated(_ headers: HTTPHeaders) -> Bool {
        guard enabled, let accepted = headers.first(name: "accept-encoding") else { return false }
        return accepted.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == "gzip" }
    }

    /// Whether `response`, whose body is `length` bytes (nil: larger than a chunk), is sent gzipped.
    static func applies(to response: HTTPResponse, length: Int?, negotiated: Bool) -> Bool {
        guard negotiated, response.headers.first(name: "content-encoding") == nil else { return false }
        return length.map { $0 > thresholdBytes } ?? true
    }

    /// The headers a gzipped response adds.
    static func mark(_ headers: inout HTTPHeaders) {
        headers.replaceOrAdd(name: "Content-Encoding", value: "gzip")
        headers.add(name: "Vary", value: "Accept-Encoding")
    }
}

/// One response's gzip stream, at level 1 as upstream since 1.26 (kubernetes#112296: much less CPU than
/// higher levels for a similar ratio on API objects). Used by one writer at a time.
final class GzipStream {
    private let compressor: ZlibCompressor

    init() throws {
        compressor = try ZlibCompressor(
            algorithm: .gzip, configuration: ZlibConfiguration(compressionLevel: .fastestCompression))
    }

    /// Compresses the next piece of the body; `finish` on the last piece ends the stream with gzip's trailer.
    func compress(_ bytes: [UInt8], finish: Bool) throws -> ByteBuffer {
        var input = ByteBufferAllocator().buffer(capacity: max(bytes.count, 1))
        input.writeBytes(bytes)
        var output = ByteBufferAllocator().buffer(capacity: max(bytes.count / 4, 4_096))
        if bytes.isEmpty, !finish { return output }
        while true {
            // zlib reports a full output buffer as an overflow, or for a partial flush by leaving input unread.
            if output.writableBytes < 1_024 { output.reserveCapacity(minimumWritableBytes: output.capacity) }
            do {
                try compressor.deflate(from: &input, to: &output, flush: finish ? .finish : .no)
                if input.readableBytes == 0 { return output }
            } catch let error as CompressNIOError where error == .bufferOverflow {
                continue
            }
        }
    }
}

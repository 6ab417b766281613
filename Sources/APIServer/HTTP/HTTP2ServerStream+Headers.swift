import NIOHPACK
import NIOHTTP1

/// HTTP/2 header blocks to and from the HTTP/1 shapes the rest of the server reads and writes, with the
/// result NIO's `HTTP2FramePayloadToHTTP1ServerCodec` gave, so clients and handlers see what they saw with it.
extension HTTP2ServerStream {
    /// Connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2), dropped from responses as NIO drops them.
    private static let connectionFields: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
    ]

    /// The request head of a stream's first HEADERS: the pseudo-headers become method and target, `Host` comes
    /// from `:authority` when absent, and a request with a body and no `Content-Length` gets `content-length: 0`
    /// (no body) or `transfer-encoding: chunked`. Nil for a block that is not a request (a pseudo-header missing,
    /// repeated, unknown or with control characters), which the HTTP/2 layer mostly refuses before this.
    static func requestHead(_ block: HPACKHeaders, endStream: Bool) -> HTTPRequestHead? {
        var method: String?
        var path: String?
        var authority: String?
        var scheme = false
        var host = false
        var length = false
        for (name, value, _) in block {
            guard name.utf8.first == UInt8(ascii: ":") else {
                if name == "host" { host = true } else if name == "content-length" { length = true }
                continue
            }
            guard isValidPseudoHeaderValue(value) else { return nil }
            switch name {
            case ":method":
                guard method == nil else { return nil }
                method = value
            case ":path":
                guard path == nil else { return nil }
                path = value
            case ":authority":
                guard authority == nil else { return nil }
                authority = value
            case ":scheme":
                guard !scheme else { return nil }
                scheme = true
            default:
                return nil
            }
        }
        guard let method, let path, scheme else { return nil }
        let httpMethod = HTTPMethod(rawValue: method)
        var fields: [(String, String)] = []
        fields.reserveCapacity(block.count)
        if !host, let authority { fields.append(("host", authority)) }
        switch httpMethod {
        case .GET, .HEAD, .DELETE, .CONNECT, .TRACE:
            break
        default:
            if !length { fields.append(endStream ? ("content-length", "0") : ("transfer-encoding", "chunked")) }
        }
        for (name, value, _) in block where name.utf8.first != UInt8(ascii: ":") {
            fields.append((name, value))
        }
        return HTTPRequestHead(version: .http2, method: httpMethod, uri: path, headers: HTTPHeaders(fields))
    }

    /// No control characters, space or DEL: a pseudo-header's value becomes part of an HTTP/1 request line.
    private static func isValidPseudoHeaderValue(_ value: String) -> Bool {
        !value.utf8.contains { $0 <= 0x20 || $0 == 0x7F }
    }

    /// A response head as an HTTP/2 header block: `:status`, then the fields lowercased without the
    /// connection-specific ones (and those `Connection` names). `Audit-Id` goes out as a literal HPACK never adds
    /// to the connection's dynamic table: every response has a new one, and indexed, each evicted older entries
    /// of the 4 KiB table, which filled with dead IDs that NIO's encoder scans linearly for every header of
    /// every response, while the headers that do repeat (`content-type`…) were evicted and sent as literals again.
    static func responseHeaders(_ head: HTTPResponseHead) -> HPACKHeaders {
        let named = head.headers[canonicalForm: "connection"]
        var block = HPACKHeaders()
        block.reserveCapacity(head.headers.count + 1)
        block.add(name: ":status", value: String(head.status.code))
        for (name, value) in head.headers {
            let lower = lowercased(name)
            if isConnectionField(lower) || named.contains(where: { $0 == lower }) { continue }
            block.add(name: lower, value: value, indexing: lower == "audit-id" ? .nonIndexable : .indexable)
        }
        return block
    }

    /// Whether `lower` is one of `connectionFields`, looked up only for names of their lengths: the set's
    /// hashing of every field of every response showed in perf of GETs, and our fields are none of them.
    private static func isConnectionField(_ lower: String) -> Bool {
        switch lower.utf8.count {
        case 7, 10, 16, 17: connectionFields.contains(lower)
        default: false
        }
    }

    /// `name` in lower case, without a copy when it already is (most of ours are written capitalised).
    private static func lowercased(_ name: String) -> String {
        name.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") } ? name.lowercased() : name
    }
}

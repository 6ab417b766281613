public import APIMachinery
public import NIOHTTP1
public import NIOSSL

/// A fully read HTTP request (bodies are bounded, so reading them whole is safe).
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The request target as sent (path and raw query), for audit's `requestURI`.
    public var uri: String
    public var path: String
    public var query: [String: String]
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Set by authentication (or by an in-process caller that already knows the user).
    public var user: UserInfo?
    /// What the connection's client certificate proves; the authenticator chain reads it.
    public var clientCertificate = ClientCertificateResult.none
    /// The connection's client certificate chain (leaf first), for the request-header authenticator.
    public var clientCertificateChain: [NIOSSLCertificate] = []
    public var remoteAddress: String

    public init(
        method: HTTPMethod, uri: String, headers: HTTPHeaders, body: [UInt8] = [], user: UserInfo? = nil,
        remoteAddress: String = ""
    ) {
        self.method = method
        self.uri = uri
        let (path, query) = Self.split(uri: uri)
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.user = user
        self.remoteAddress = remoteAddress
    }

    /// Splits `/a/b?x=1&y=2` into a decoded path and query map (the last value of a repeated key wins).
    static func split(uri: String) -> (String, [String: String]) {
        guard let mark = uri.firstIndex(of: "?") else { return (percentDecode(uri), [:]) }
        var query: [String: String] = [:]
        for pair in uri[uri.index(after: mark)...].split(separator: "&") where !pair.isEmpty {
            if let equals = pair.firstIndex(of: "=") {
                query[percentDecode(pair[..<equals], plusIsSpace: true)] = percentDecode(
                    pair[pair.index(after: equals)...], plusIsSpace: true)
            } else {
                query[percentDecode(pair, plusIsSpace: true)] = ""
            }
        }
        return (percentDecode(uri[..<mark]), query)
    }

    static func percentDecode(_ text: some StringProtocol, plusIsSpace: Bool = false) -> String {
        // Byte scans: `contains` with a string argument is Foundation's substring search.
        guard text.utf8.contains(UInt8(ascii: "%")) || (plusIsSpace && text.utf8.contains(UInt8(ascii: "+"))) else {
            return String(text)
        }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else if plusIsSpace, byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func header(_ name: String) -> String? { headers.first(name: name) }
}

/// A response: a whole body, a large body encoded while it is written (lists), or a stream of chunks for
/// watches; the last two go without content-length, so as h1 chunks and h2 frames.
public struct HTTPResponse: Sendable {
    /// The body's shape.
    public enum Body: Sendable {
        case bytes([UInt8])
        /// A finite body made chunk by chunk as the connection takes them; compressed like `bytes`.
        case chunked(ChunkedBody)
        /// An open-ended stream (a watch): never compressed, and ended by a graceful shutdown.
        case stream(AsyncStream<[UInt8]>)
    }

    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: Body

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders(), body: Body) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response with the given body bytes.
    public static func json(
        _ bytes: [UInt8], status: HTTPResponseStatus = .ok, contentType: String = "application/json"
    )
        -> HTTPResponse
    {
        HTTPResponse(status: status, headers: ["Content-Type": contentType], body: .bytes(bytes))
    }

    public static func json(_ value: JSON, status: HTTPResponseStatus = .ok) -> HTTPResponse {
        json(value.encoded(), status: status)
    }

    public static func text(_ text: String, status: HTTPResponseStatus = .ok) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: .bytes(Array(text.utf8)))
    }

    /// The Status body upstream sends for an error, with its HTTP code.
    /// The response with each warning as a `Warning: 299 - "…"` header, quoted as upstream quotes them.
    func addingWarnings(_ warnings: [String]) -> HTTPResponse {
        guard !warnings.isEmpty else { return self }
        var response = self
        for warning in warnings {
            let escaped = warning.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
                of: "\"", with: "\\\"")
            response.headers.add(name: "Warning", value: "299 - \"\(escaped)\"")
        }
        return response
    }

    public static func error(_ error: APIError) -> HTTPResponse {
        var response = json(error.status.encoded(), status: HTTPResponseStatus(statusCode: error.code))
        if let retry = error.retryAfterSeconds { response.headers.add(name: "Retry-After", value: String(retry)) }
        return response
    }
}

/// Anything that answers requests; the API server's router is one.
public protocol HTTPResponder: Sendable {
    func respond(to request: HTTPRequest) async -> HTTPResponse
}

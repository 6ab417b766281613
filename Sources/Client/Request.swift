/// An HTTP method the Kubernetes API uses.
public enum RequestMethod: String, Sendable, Hashable {
    case get = "GET"
    case post = "POST"
    case put = "PUT"
    case patch = "PATCH"
    case delete = "DELETE"
    case head = "HEAD"
}

/// Query parameters in the order given; written as a dictionary literal (`["limit": "500"]`) or built up.
public struct Query: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    /// The parameters, in order; names may repeat.
    public var items: [Item]

    /// One `name=value` parameter.
    public struct Item: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public init() { items = [] }

    public init(dictionaryLiteral elements: (String, String)...) {
        items = elements.map { Item(name: $0.0, value: $0.1) }
    }

    /// Appends a parameter.
    public mutating func append(_ name: String, _ value: String) {
        items.append(Item(name: name, value: value))
    }

    /// The value of the first parameter named `name`.
    public subscript(name: String) -> String? {
        items.first { $0.name == name }?.value
    }

    /// `a=1&b=2`, percent-encoded; empty without parameters.
    var encoded: String {
        items.map { Self.escape($0.name) + "=" + Self.escape($0.value) }.joined(separator: "&")
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters, so selectors such as
    /// `app in (a,b)` and `metadata.name=x` arrive intact.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 0xF)])
            }
        }
        return out
    }
}

/// One request to the API server.
public struct Request: Sendable, Hashable {
    public var method: RequestMethod
    /// The absolute path, such as `/api/v1/namespaces/default/configmaps`; the server URL's prefix is added.
    public var path: String
    public var query: Query
    public var body: [UInt8]?
    /// `Content-Type` of `body`; `application/json` when a body is given without one.
    public var contentType: String?
    /// Extra headers; names are sent in lowercase as HTTP/2 requires.
    public var headers: [Header]

    public init(
        method: RequestMethod, path: String, query: Query = [:], body: [UInt8]? = nil, contentType: String? = nil,
        headers: [Header] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.contentType = contentType
        self.headers = headers
    }
}

/// One HTTP header field.
public struct Header: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A complete answer: status code, headers and body bytes.
public struct Response: Sendable, Hashable {
    public var status: Int
    /// Response headers in arrival order, names in lowercase.
    public var headers: [Header]
    public var body: [UInt8]

    public init(status: Int, headers: [Header] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name == lowered }?.value
    }

    /// True for 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// The patch formats the API server accepts, by their content types.
public enum PatchType: String, Sendable, Hashable {
    case json = "application/json-patch+json"
    case merge = "application/merge-patch+json"
    case strategicMerge = "application/strategic-merge-patch+json"
    case apply = "application/apply-patch+yaml"
}

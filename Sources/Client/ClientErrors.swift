public import APIMachinery
import Foundation

/// A failure of the client or the connection, as opposed to an error answer from the API server.
public enum ClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The configuration or kubeconfig cannot be used.
    case invalidConfiguration(String)
    /// TLS or ALPN did not give an HTTP/2 connection.
    case http2NotNegotiated(String?)
    /// The connection or stream closed before the response was complete.
    case connectionClosed
    /// The server's answer broke HTTP/2 or HTTP semantics.
    case invalidResponse(String)
    /// The request did not complete within the configured time.
    case timeout
    /// A watch event could not be decoded.
    case invalidWatchEvent(String)
    /// The client was shut down.
    case shutdown

    public var description: String {
        switch self {
        case .invalidConfiguration(let message): return "invalid client configuration: \(message)"
        case .http2NotNegotiated(let protocolName):
            return "the server did not negotiate HTTP/2 (ALPN: \(protocolName ?? "none"))"
        case .connectionClosed: return "the connection closed before the response was complete"
        case .invalidResponse(let message): return "invalid response: \(message)"
        case .timeout: return "the request timed out"
        case .invalidWatchEvent(let message): return "invalid watch event: \(message)"
        case .shutdown: return "the client has been shut down"
        }
    }
}

/// A non-2xx answer from the API server, decoded from its `Status` body when it has one.
public struct StatusError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status code (or the `code` of the `Status`, which upstream keeps equal).
    public var code: Int
    /// The `Status` reason, such as `NotFound` or `AlreadyExists`; derived from the code without a `Status`.
    public var reason: String
    /// The human-readable message, such as `configmaps "x" not found`.
    public var message: String
    /// The `Status` details (name, group, kind, causes), if any.
    public var details: JSONObject?

    public init(code: Int, reason: String, message: String, details: JSONObject? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    /// The reason as APIMachinery's enum; `.unknown` for reasons it does not list.
    public var statusReason: StatusReason { StatusReason(rawValue: reason) ?? .unknown }

    public var description: String { message }

    /// Decodes the error of a non-2xx response: its `Status` body, or, as client-go does for bodies
    /// that are not a `Status`, a reason from the HTTP code and the body's text as the message.
    public init(response: Response) {
        if let status = try? JSON.parse(response.body), status["kind"]?.stringValue == "Status" {
            let code = status["code"]?.intValue.map { Int($0) } ?? response.status
            self.init(
                code: code == 0 ? response.status : code,
                reason: status["reason"]?.stringValue ?? Self.reason(forCode: response.status),
                message: status["message"]?.stringValue ?? "", details: status["details"]?.objectValue)
            return
        }
        let text = String(decoding: response.body.prefix(1024), as: UTF8.self)
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        self.init(
            code: response.status, reason: Self.reason(forCode: response.status),
            message: trimmed.isEmpty ? "the server responded with status \(response.status)" : trimmed)
    }

    /// client-go's mapping from a bare HTTP code to a reason.
    static func reason(forCode code: Int) -> String {
        switch code {
        case 400: return StatusReason.badRequest.rawValue
        case 401: return StatusReason.unauthorized.rawValue
        case 403: return StatusReason.forbidden.rawValue
        case 404: return StatusReason.notFound.rawValue
        case 405: return StatusReason.methodNotAllowed.rawValue
        case 406: return StatusReason.notAcceptable.rawValue
        case 409: return StatusReason.conflict.rawValue
        case 410: return StatusReason.gone.rawValue
        case 413: return StatusReason.requestEntityTooLarge.rawValue
        case 415: return StatusReason.unsupportedMediaType.rawValue
        case 422: return StatusReason.invalid.rawValue
        case 429: return StatusReason.tooManyRequests.rawValue
        case 500: return StatusReason.internalError.rawValue
        case 503: return StatusReason.serviceUnavailable.rawValue
        case 504: return StatusReason.timeout.rawValue
        default: return StatusReason.unknown.rawValue
        }
    }
}

/// The machine-readable reason of a failed request, as in metav1.StatusReason.
public enum StatusReason: String, Sendable {
    case badRequest = "BadRequest"
    case unauthorized = "Unauthorized"
    case forbidden = "Forbidden"
    case notFound = "NotFound"
    case alreadyExists = "AlreadyExists"
    case conflict = "Conflict"
    case gone = "Gone"
    case expired = "Expired"
    case invalid = "Invalid"
    case methodNotAllowed = "MethodNotAllowed"
    case notAcceptable = "NotAcceptable"
    case unsupportedMediaType = "UnsupportedMediaType"
    case requestEntityTooLarge = "RequestEntityTooLarge"
    case tooManyRequests = "TooManyRequests"
    case timeout = "Timeout"
    case serviceUnavailable = "ServiceUnavailable"
    case internalError = "InternalError"
    case unknown = ""
}

/// A failed request, carried as a `Status` object so clients print `message` and act on `reason`.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var reason: StatusReason
    public var message: String
    public var details: JSONObject?
    /// Seconds a client should wait before retrying, sent as Retry-After.
    public var retryAfterSeconds: Int?

    public init(code: Int, reason: StatusReason, message: String, details: JSONObject? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public var description: String { message }

    /// The `Status` object upstream writes for this error.
    public var status: JSON {
        var object: JSONObject = [
            "kind": "Status", "apiVersion": "v1", "metadata": .object(JSONObject()),
            "status": "Failure", "message": .string(message),
        ]
        if reason != .unknown { object["reason"] = .string(reason.rawValue) }
        if let details, !details.isEmpty { object["details"] = .object(details) }
        object["code"] = .int(Int64(code))
        return .object(object)
    }

    static func details(_ resource: GroupResource, name: String) -> JSONObject {
        var details: JSONObject = ["name": .string(name)]
        if !resource.group.isEmpty { details["group"] = .string(resource.group) }
        details["kind"] = .string(resource.resource)
        return details
    }
}

extension APIError {
    public static func notFound(_ resource: GroupResource, name: String) -> APIError {
        APIError(
            code: 404, reason: .notFound, message: "\(resource) \"\(name)\" not found",
            details: details(resource, name: name))
    }

    public static func alreadyExists(_ resource: GroupResource, name: String) -> APIError {
        APIError(
            code: 409, reason: .alreadyExists, message: "\(resource) \"\(name)\" already exists",
            details: details(resource, name: name))
    }

    public static func conflict(_ resource: GroupResource, name: String, reason: String) -> APIError {
        APIError(
            code: 409, reason: .conflict,
            message: "Operation cannot be fulfilled on \(resource) \"\(name)\": \(reason)",
            details: details(resource, name: name))
    }

    /// The optimistic-concurrency conflict every stale update gets.
    public static func staleUpdate(_ resource: GroupResource, name: String) -> APIError {
        conflict(
            resource, name: name,
            reason: "the object has been modified; please apply your changes to the latest version and try again")
    }

    public static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: .badRequest, message: message)
    }

    public static func gone(_ message: String) -> APIError {
        APIError(code: 410, reason: .expired, message: message)
    }

    public static func methodNotAllowed() -> APIError {
        APIError(
            code: 405, reason: .methodNotAllowed,
            message: "the server does not allow this method on the requested resource")
    }

    public static func resourceNotFound() -> APIError {
        APIError(code: 404, reason: .notFound, message: "the server could not find the requested resource")
    }

    public static func unsupportedMediaType(_ contentType: String, accepted: [String]) -> APIError {
        APIError(
            code: 415, reason: .unsupportedMediaType,
            message: "the body of the request was in an unknown format - accepted media types include: "
                + accepted.joined(separator: ", "))
    }

    public static func notAcceptable(_ accepted: [String]) -> APIError {
        APIError(
            code: 406, reason: .notAcceptable,
            message: "only the following media types are accepted: " + accepted.joined(separator: ", "))
    }

    public static func tooLarge(limit: Int) -> APIError {
        APIError(
            code: 413, reason: .requestEntityTooLarge,
            message: "the request is too large: limit is \(limit) bytes")
    }

    public static func unauthorized() -> APIError {
        APIError(code: 401, reason: .unauthorized, message: "Unauthorized")
    }

    public static func forbidden(_ message: String) -> APIError {
        APIError(code: 403, reason: .forbidden, message: message)
    }

    public static func internalError(_ message: String) -> APIError {
        APIError(
            code: 500, reason: .internalError,
            message: "Internal error occurred: \(message)")
    }

    public static func unavailable(_ message: String) -> APIError {
        APIError(code: 503, reason: .serviceUnavailable, message: message)
    }

    /// A request that ran past its deadline (upstream's NewTimeoutError).
    public static func timeout(_ message: String) -> APIError {
        APIError(code: 504, reason: .timeout, message: "Timeout: \(message)")
    }

    /// A validation failure: `Pod "x" is invalid: <errors>` (`Deployment.apps "x"` for a named group, as upstream's
    /// qualified kind) with one cause per field error.
    public static func invalid(kind: GroupVersionKind, name: String, errors: [FieldError]) -> APIError {
        let rendered = errors.map(\.description)
        let summary = rendered.count == 1 ? rendered[0] : "[" + rendered.joined(separator: ", ") + "]"
        let qualified = kind.group.isEmpty ? kind.kind : "\(kind.kind).\(kind.group)"
        var details: JSONObject = ["name": .string(name)]
        if !kind.group.isEmpty { details["group"] = .string(kind.group) }
        details["kind"] = .string(kind.kind)
        details["causes"] = .array(
            errors.map { error in
                [
                    "reason": .string(error.type.causeReason), "message": .string(error.causeMessage),
                    "field": .string(error.field),
                ]
            })
        return APIError(
            code: 422, reason: .invalid, message: "\(qualified) \"\(name)\" is invalid: \(summary)", details: details)
    }
}

/// A gRPC status code, as sent in `grpc-status` (https://grpc.github.io/grpc/core/md_doc_statuscodes.html).
public enum GRPCStatusCode: Int, Sendable, Hashable, CustomStringConvertible {
    case ok = 0
    case cancelled = 1
    case unknown = 2
    case invalidArgument = 3
    case deadlineExceeded = 4
    case notFound = 5
    case alreadyExists = 6
    case permissionDenied = 7
    case resourceExhausted = 8
    case failedPrecondition = 9
    case aborted = 10
    case outOfRange = 11
    case unimplemented = 12
    case `internal` = 13
    case unavailable = 14
    case dataLoss = 15
    case unauthenticated = 16

    public var description: String {
        switch self {
        case .ok: "OK"
        case .cancelled: "Canceled"
        case .unknown: "Unknown"
        case .invalidArgument: "InvalidArgument"
        case .deadlineExceeded: "DeadlineExceeded"
        case .notFound: "NotFound"
        case .alreadyExists: "AlreadyExists"
        case .permissionDenied: "PermissionDenied"
        case .resourceExhausted: "ResourceExhausted"
        case .failedPrecondition: "FailedPrecondition"
        case .aborted: "Aborted"
        case .outOfRange: "OutOfRange"
        case .unimplemented: "Unimplemented"
        case .internal: "Internal"
        case .unavailable: "Unavailable"
        case .dataLoss: "DataLoss"
        case .unauthenticated: "Unauthenticated"
        }
    }
}

/// A call that ended with a non-OK status: from the server's `grpc-status`/`grpc-message`, or made
/// locally for transport failures (`.unavailable`), deadlines and cancellation, as grpc-go does.
public struct GRPCStatusError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: GRPCStatusCode
    public var message: String
    /// True when the request may have reached the server: a retry of a write must then check whether it landed.
    public var mayHaveBeenSent: Bool

    public init(code: GRPCStatusCode, message: String, mayHaveBeenSent: Bool = true) {
        self.code = code
        self.message = message
        self.mayHaveBeenSent = mayHaveBeenSent
    }

    public var description: String { "rpc error: code = \(code) desc = \(message)" }

    static func unavailable(_ message: String, sent: Bool) -> GRPCStatusError {
        GRPCStatusError(code: .unavailable, message: message, mayHaveBeenSent: sent)
    }
}

extension GRPCStatusError {
    /// Decodes `grpc-message`, which is percent-encoded (gRPC over HTTP/2, "Responses").
    static func decodeMessage(_ raw: String) -> String {
        guard raw.contains("%") else { return raw }
        var bytes: [UInt8] = []
        var iterator = Array(raw.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                iterator.removeFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

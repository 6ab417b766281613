/// One validation failure at a field path, rendered as upstream's field.Error.
public struct FieldError: Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure; its text and cause reason follow field.ErrorType.
    public enum ErrorType: Sendable, Equatable {
        case required
        case invalid
        case notSupported([String])
        case duplicate
        case forbidden
        case tooLong(Int)
        case tooMany(Int)

        var text: String {
            switch self {
            case .required: return "Required value"
            case .invalid: return "Invalid value"
            case .notSupported: return "Unsupported value"
            case .duplicate: return "Duplicate value"
            case .forbidden: return "Forbidden"
            case .tooLong: return "Too long"
            case .tooMany: return "Too many"
            }
        }

        var causeReason: String {
            switch self {
            case .required: return "FieldValueRequired"
            case .invalid: return "FieldValueInvalid"
            case .notSupported: return "FieldValueNotSupported"
            case .duplicate: return "FieldValueDuplicate"
            case .forbidden: return "FieldValueForbidden"
            case .tooLong: return "FieldValueTooLong"
            case .tooMany: return "FieldValueTooMany"
            }
        }
    }

    public var type: ErrorType
    public var field: String
    public var value: JSON?
    public var detail: String

    public init(_ type: ErrorType, _ field: String, value: JSON? = nil, detail: String = "") {
        self.type = type
        self.field = field
        self.value = value
        self.detail = detail
    }

    public static func required(_ field: String, _ detail: String = "") -> FieldError {
        FieldError(.required, field, detail: detail)
    }
    public static func invalid(_ field: String, _ value: JSON, _ detail: String) -> FieldError {
        FieldError(.invalid, field, value: value, detail: detail)
    }
    public static func forbidden(_ field: String, _ detail: String) -> FieldError {
        FieldError(.forbidden, field, detail: detail)
    }
    public static func notSupported(_ field: String, _ value: JSON, _ allowed: [String]) -> FieldError {
        FieldError(.notSupported(allowed), field, value: value)
    }
    public static func duplicate(_ field: String, _ value: JSON) -> FieldError {
        FieldError(.duplicate, field, value: value)
    }

    /// `Invalid value: "X": detail`, the part after the field name.
    public var causeMessage: String {
        var text = type.text
        switch type {
        case .required, .forbidden, .tooLong, .tooMany:
            break
        case .invalid, .duplicate, .notSupported:
            if let value { text += ": " + Self.render(value) }
        }
        if case .notSupported(let allowed) = type, !allowed.isEmpty {
            text += ": supported values: " + allowed.map { "\"\($0)\"" }.joined(separator: ", ")
        }
        if !detail.isEmpty { text += ": " + detail }
        return text
    }

    public var description: String { "\(field): \(causeMessage)" }

    /// Values print as Go's %#v/%q would for the simple types validation reports.
    static func render(_ value: JSON) -> String {
        switch value {
        case .string(let string): return "\"" + string + "\""
        case .int(let int): return String(int)
        case .double(let double): return String(double)
        case .bool(let bool): return String(bool)
        case .null: return "null"
        default: return value.jsonString
        }
    }
}

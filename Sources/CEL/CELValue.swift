public import APIMachinery

/// A CEL value. Equality (`==`) is CEL's: numbers compare by value across `int`, `uint` and `double`,
/// values of different kinds are unequal, and NaN equals nothing.
public enum CELValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case list([CELValue])
    case map(CELMap)
    /// `google.protobuf.Duration`, in nanoseconds as cel-go's `time.Duration`.
    case duration(Int64)
    case timestamp(CELTimestamp)
    /// Kubernetes' `quantity()` values.
    case quantity(Quantity)
    case type(CELType)
    /// An optional value (`optional.of(x)`, `optional.none()`, `m.?key`); Kubernetes binds `oldSelf` as one
    /// for rules with `optionalOldSelf`.
    indirect case optional(CELValue?)

    /// The value's CEL type.
    public var type: CELType {
        switch self {
        case .null: return .null
        case .bool: return .bool
        case .int: return .int
        case .uint: return .uint
        case .double: return .double
        case .string: return .string
        case .bytes: return .bytes
        case .list: return .list
        case .map: return .map
        case .duration: return .duration
        case .timestamp: return .timestamp
        case .quantity: return .quantity
        case .type: return .type
        case .optional: return .optional
        }
    }

    public static func == (lhs: CELValue, rhs: CELValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.bytes(let a), .bytes(let b)): return a == b
        case (.list(let a), .list(let b)): return a == b
        case (.map(let a), .map(let b)): return a == b
        case (.duration(let a), .duration(let b)): return a == b
        case (.timestamp(let a), .timestamp(let b)): return a == b
        case (.quantity(let a), .quantity(let b)): return a == b
        case (.type(let a), .type(let b)): return a == b
        case (.optional(let a), .optional(let b)): return a == b
        default:
            if let order = NumericOrder.compare(lhs, rhs) { return order == .equal }
            return false
        }
    }
}

/// A CEL type value, as `type(x)` returns and identifiers such as `int` name.
public struct CELType: Sendable, Hashable, CustomStringConvertible {
    public let name: String

    public init(name: String) { self.name = name }

    public var description: String { name }

    public static let null = CELType(name: "null_type")
    public static let bool = CELType(name: "bool")
    public static let int = CELType(name: "int")
    public static let uint = CELType(name: "uint")
    public static let double = CELType(name: "double")
    public static let string = CELType(name: "string")
    public static let bytes = CELType(name: "bytes")
    public static let list = CELType(name: "list")
    public static let map = CELType(name: "map")
    public static let duration = CELType(name: "google.protobuf.Duration")
    public static let timestamp = CELType(name: "google.protobuf.Timestamp")
    public static let quantity = CELType(name: "kubernetes.Quantity")
    public static let type = CELType(name: "type")
    public static let optional = CELType(name: "optional_type")

    /// The types an identifier may name in an expression.
    static let byIdentifier: [String: CELType] = [
        "null_type": .null, "bool": .bool, "int": .int, "uint": .uint, "double": .double, "string": .string,
        "bytes": .bytes, "list": .list, "map": .map, "type": .type,
        "google.protobuf.Duration": .duration, "google.protobuf.Timestamp": .timestamp,
    ]
}

/// A point in time with nanosecond precision, in CEL's range (years 1 to 9999, UTC).
public struct CELTimestamp: Sendable, Hashable, Comparable {
    public var seconds: Int64
    /// 0 ..< 1_000_000_000.
    public var nanos: Int32

    public init(seconds: Int64, nanos: Int32 = 0) {
        self.seconds = seconds
        self.nanos = nanos
    }

    public static func < (lhs: CELTimestamp, rhs: CELTimestamp) -> Bool {
        (lhs.seconds, lhs.nanos) < (rhs.seconds, rhs.nanos)
    }
}

/// A CEL map: insertion-ordered entries, looked up with CEL's key equality (`m[1u]` finds key `1`).
public struct CELMap: Sendable, Equatable {
    /// Normalised keys: an unsigned key that fits `int` becomes `int`, so equal numbers meet.
    enum Key: Hashable {
        case bool(Bool)
        case int(Int64)
        case uint(UInt64)
        case string(String)
    }

    public private(set) var entries: [(key: CELValue, value: CELValue)] = []
    private var index: [Key: Int] = [:]

    public init() {}

    public var count: Int { entries.count }

    static func key(_ value: CELValue) -> Key? {
        switch value {
        case .bool(let b): return .bool(b)
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        case .uint(let u): return u <= UInt64(Int64.max) ? .int(Int64(u)) : .uint(u)
        case .double(let d):
            // Only lookups pass doubles; an integral double finds the equal integer key.
            if d.rounded() == d, d >= -9.223_372_036_854_775_808e18, d < 9.223_372_036_854_775_808e18 {
                return .int(Int64(d))
            }
            if d.rounded() == d, d >= 0, d < 1.844_674_407_370_955_161_6e19 { return .uint(UInt64(d)) }
            return nil
        default: return nil
        }
    }

    /// Adds an entry; false (and no change) when the key is already present or cannot be a map key
    /// (only bool, int, uint and string can).
    @discardableResult
    public mutating func insert(key: CELValue, value: CELValue) -> Bool {
        guard let normalized = Self.key(key), index[normalized] == nil else { return false }
        index[normalized] = entries.count
        entries.append((key, value))
        return true
    }

    /// The value under `key`, by CEL equality.
    public subscript(key: CELValue) -> CELValue? {
        guard let normalized = Self.key(key), let position = index[normalized] else { return nil }
        return entries[position].value
    }

    public subscript(key: String) -> CELValue? { self[.string(key)] }

    public static func == (lhs: CELMap, rhs: CELMap) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (key, value) in lhs.entries {
            guard let other = rhs[key], other == value else { return false }
        }
        return true
    }
}

extension CELValue {
    /// A schema-less JSON document as CEL sees it: objects are maps with string keys, integers `int`.
    public init(json: JSON) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let items): self = .list(items.map(CELValue.init(json:)))
        case .object(let object):
            var map = CELMap()
            for (key, value) in object { map.insert(key: .string(key), value: CELValue(json: value)) }
            self = .map(map)
        }
    }

    /// The value as JSON: bytes as base64, durations, timestamps and quantities as their strings,
    /// non-string map keys as their string forms.
    public var json: JSON {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .uint(let u): return u <= UInt64(Int64.max) ? .int(Int64(u)) : .double(Double(u))
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .bytes(let b): return .string(Base64.encode(b))
        case .list(let items): return .array(items.map(\.json))
        case .map(let map):
            var object = JSONObject()
            for (key, value) in map.entries { object[Conversions.displayString(key)] = value.json }
            return .object(object)
        case .duration(let nanos): return .string(Conversions.durationString(nanos))
        case .timestamp(let t): return .string(Conversions.timestampString(t))
        case .quantity(let q): return .string(q.canonical)
        case .type(let t): return .string(t.name)
        case .optional(let wrapped): return wrapped?.json ?? .null
        }
    }

    /// Builds a map value from string-keyed entries, for callers binding variables such as `request`.
    public static func object(_ entries: [(String, CELValue)]) -> CELValue {
        var map = CELMap()
        for (key, value) in entries { map.insert(key: .string(key), value: value) }
        return .map(map)
    }
}

/// Standard base64 with padding, as Go's `encoding/base64.StdEncoding`.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(triple >> 18 & 63)])
            out.append(alphabet[Int(triple >> 12 & 63)])
            out.append(i + 1 < bytes.count ? alphabet[Int(triple >> 6 & 63)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(triple & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

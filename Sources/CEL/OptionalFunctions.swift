/// cel-go's optional library: `optional.of`, `optional.none`, `optional.ofNonZeroValue` and the
/// methods `hasValue`, `value`, `orValue` and `or`.
enum OptionalFunctions {
    static func call(_ function: Function, method: Bool, _ args: [CELValue]) throws(CELError) -> CELValue {
        switch (function, method, args.count) {
        case (.optionalOf, false, 1): return .optional(args[0])
        case (.optionalNone, false, 0): return .optional(nil)
        case (.optionalOfNonZeroValue, false, 1): return .optional(isZero(args[0]) ? nil : args[0])
        default: break
        }
        guard method, case .optional(let wrapped) = args.first else { throw .noSuchOverload }
        switch (function, args.count) {
        case (.hasValue, 1): return .bool(wrapped != nil)
        case (.value, 1):
            guard let wrapped else { throw .evaluation("optional.none() dereference") }
            return wrapped
        case (.orValue, 2): return wrapped ?? args[1]
        case (.or, 2):
            guard case .optional = args[1] else { throw .noSuchOverload }
            return wrapped == nil ? args[1] : args[0]
        default: throw .noSuchOverload
        }
    }

    /// The zero value of each type, as protobuf's defaults.
    private static func isZero(_ value: CELValue) -> Bool {
        switch value {
        case .null: return true
        case .bool(let b): return !b
        case .int(let i): return i == 0
        case .uint(let u): return u == 0
        case .double(let d): return d == 0
        case .string(let s): return s.isEmpty
        case .bytes(let b): return b.isEmpty
        case .list(let l): return l.isEmpty
        case .map(let m): return m.count == 0
        case .duration(let d): return d == 0
        case .timestamp(let t): return t.seconds == 0 && t.nanos == 0
        case .quantity(let q): return q.isZero
        case .type: return false
        case .optional(let o): return o == nil
        }
    }
}

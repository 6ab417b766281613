/// The result of comparing two values.
enum Order: Sendable {
    case less, equal, greater

    init<T: Comparable>(_ a: T, _ b: T) {
        self = a < b ? .less : a == b ? .equal : .greater
    }
}

/// Numeric comparison across `int`, `uint` and `double`, as cel-go's heterogeneous equality and
/// cross-type numeric comparisons (both on in Kubernetes' environment).
enum NumericOrder {
    /// nil when either side is not a number, or is NaN.
    static func compare(_ lhs: CELValue, _ rhs: CELValue) -> Order? {
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)): return Order(a, b)
        case (.uint(let a), .uint(let b)): return Order(a, b)
        case (.double(let a), .double(let b)): return a.isNaN || b.isNaN ? nil : Order(a, b)
        case (.int(let a), .uint(let b)): return a < 0 ? .less : Order(UInt64(a), b)
        case (.uint(let a), .int(let b)): return b < 0 ? .greater : Order(a, UInt64(b))
        case (.int(let a), .double(let b)): return intDouble(a, b)
        case (.double(let a), .int(let b)): return intDouble(b, a).map(flip)
        case (.uint(let a), .double(let b)): return uintDouble(a, b)
        case (.double(let a), .uint(let b)): return uintDouble(b, a).map(flip)
        default: return nil
        }
    }

    private static func flip(_ order: Order) -> Order {
        switch order {
        case .less: return .greater
        case .equal: return .equal
        case .greater: return .less
        }
    }

    private static func intDouble(_ a: Int64, _ b: Double) -> Order? {
        if b.isNaN { return nil }
        if b < -9.223_372_036_854_775_808e18 { return .greater }
        if b >= 9.223_372_036_854_775_808e18 { return .less }
        let whole = b.rounded(.down)
        let truncated = Int64(whole)
        if a != truncated { return Order(a, truncated) }
        return whole == b ? .equal : .less
    }

    private static func uintDouble(_ a: UInt64, _ b: Double) -> Order? {
        if b.isNaN { return nil }
        if b < 0 { return .greater }
        if b >= 1.844_674_407_370_955_161_6e19 { return .less }
        let whole = b.rounded(.down)
        let truncated = UInt64(whole)
        if a != truncated { return Order(a, truncated) }
        return whole == b ? .equal : .less
    }
}

/// CEL's operators on values; `no such overload` for operand types the operator does not take.
enum Operators {
    static func add(_ lhs: CELValue, _ rhs: CELValue) throws(CELError) -> CELValue {
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)):
            let (sum, overflow) = a.addingReportingOverflow(b)
            if overflow { throw .integerOverflow }
            return .int(sum)
        case (.uint(let a), .uint(let b)):
            let (sum, overflow) = a.addingReportingOverflow(b)
            if overflow { throw .unsignedOverflow }
            return .uint(sum)
        case (.double(let a), .double(let b)): return .double(a + b)
        case (.string(let a), .string(let b)): return .string(a + b)
        case (.bytes(let a), .bytes(let b)): return .bytes(a + b)
        case (.list(let a), .list(let b)): return .list(a + b)
        case (.duration(let a), .duration(let b)):
            let (sum, overflow) = a.addingReportingOverflow(b)
            if overflow { throw .evaluation("duration overflow") }
            return .duration(sum)
        case (.timestamp(let t), .duration(let d)), (.duration(let d), .timestamp(let t)):
            return .timestamp(try TimeFunctions.add(t, nanoseconds: d))
        default: throw .noSuchOverload
        }
    }

    static func subtract(_ lhs: CELValue, _ rhs: CELValue) throws(CELError) -> CELValue {
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)):
            let (difference, overflow) = a.subtractingReportingOverflow(b)
            if overflow { throw .integerOverflow }
            return .int(difference)
        case (.uint(let a), .uint(let b)):
            let (difference, overflow) = a.subtractingReportingOverflow(b)
            if overflow { throw .unsignedOverflow }
            return .uint(difference)
        case (.double(let a), .double(let b)): return .double(a - b)
        case (.duration(let a), .duration(let b)):
            let (difference, overflow) = a.subtractingReportingOverflow(b)
            if overflow { throw .evaluation("duration overflow") }
            return .duration(difference)
        case (.timestamp(let t), .duration(let d)):
            guard d != .min else { throw .evaluation("timestamp overflow") }
            return .timestamp(try TimeFunctions.add(t, nanoseconds: -d))
        case (.timestamp(let a), .timestamp(let b)):
            return .duration(try TimeFunctions.difference(a, b))
        default: throw .noSuchOverload
        }
    }

    static func multiply(_ lhs: CELValue, _ rhs: CELValue) throws(CELError) -> CELValue {
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)):
            let (product, overflow) = a.multipliedReportingOverflow(by: b)
            if overflow { throw .integerOverflow }
            return .int(product)
        case (.uint(let a), .uint(let b)):
            let (product, overflow) = a.multipliedReportingOverflow(by: b)
            if overflow { throw .unsignedOverflow }
            return .uint(product)
        case (.double(let a), .double(let b)): return .double(a * b)
        default: throw .noSuchOverload
        }
    }

    static func divide(_ lhs: CELValue, _ rhs: CELValue) throws(CELError) -> CELValue {
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)):
            if b == 0 { throw .evaluation("division by zero") }
            let (quotient, overflow) = a.dividedReportingOverflow(by: b)
            if overflow { throw .integerOverflow }
            return .int(quotient)
        case (.uint(let a), .uint(let b)):
            if b == 0 { throw .evaluation("division by zero") }
            return .uint(a / b)
        case (.double(let a), .double(let b)): return .double(a / b)
        default: throw .noSuchOverload
        }
    }

    static func modulo(_ lhs: CELValue, _ rhs: CELValue) throws(CELError) -> CELValue {
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)):
            if b == 0 { throw .evaluation("modulus by zero") }
            let (remainder, overflow) = a.remainderReportingOverflow(dividingBy: b)
            if overflow { throw .integerOverflow }
            return .int(remainder)
        case (.uint(let a), .uint(let b)):
            if b == 0 { throw .evaluation("modulus by zero") }
            return .uint(a % b)
        default: throw .noSuchOverload
        }
    }

    static func negate(_ operand: CELValue) throws(CELError) -> CELValue {
        switch operand {
        case .int(let a):
            if a == .min { throw .integerOverflow }
            return .int(-a)
        case .double(let a): return .double(-a)
        case .duration(let a):
            if a == .min { throw .evaluation("duration overflow") }
            return .duration(-a)
        default: throw .noSuchOverload
        }
    }

    /// The order of two values for `<`, `<=`, `>`, `>=`.
    static func compare(_ lhs: CELValue, _ rhs: CELValue) throws(CELError) -> Order? {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): return utf8Order(Array(a.utf8), Array(b.utf8))
        case (.bytes(let a), .bytes(let b)): return utf8Order(a, b)
        case (.bool(let a), .bool(let b)): return a == b ? .equal : (a ? .greater : .less)
        case (.duration(let a), .duration(let b)): return Order(a, b)
        case (.timestamp(let a), .timestamp(let b)): return Order(a, b)
        default:
            switch (lhs, rhs) {
            case (.int, _), (.uint, _), (.double, _):
                switch rhs {
                case .int, .uint, .double: return NumericOrder.compare(lhs, rhs)
                default: throw .noSuchOverload
                }
            default: throw .noSuchOverload
            }
        }
    }

    /// Byte order, as Go compares strings.
    private static func utf8Order(_ a: [UInt8], _ b: [UInt8]) -> Order {
        if a == b { return .equal }
        return a.lexicographicallyPrecedes(b) ? .less : .greater
    }

    static func contains(_ container: CELValue, _ element: CELValue) throws(CELError) -> Bool {
        switch container {
        case .list(let items): return items.contains(element)
        case .map(let map): return map[element] != nil
        default: throw .noSuchOverload
        }
    }

    static func index(_ base: CELValue, _ key: CELValue) throws(CELError) -> CELValue {
        switch base {
        case .list(let items):
            let position: Int64
            switch key {
            case .int(let i): position = i
            case .uint(let u): position = u > UInt64(Int64.max) ? .max : Int64(u)
            case .double(let d):
                guard d.rounded() == d, abs(d) < 9.2e18 else {
                    throw .evaluation("unsupported index value \(Conversions.doubleString(d)) in list")
                }
                position = Int64(d)
            default: throw .evaluation("unsupported index type '\(key.type)' in list")
            }
            guard position >= 0, position < Int64(items.count) else {
                throw .evaluation("index '\(position)' out of range in list size '\(items.count)'")
            }
            return items[Int(position)]
        case .map(let map):
            guard CELMap.key(key) != nil || key.type == .double else {
                throw .evaluation("unsupported key type: \(key.type)")
            }
            guard let value = map[key] else { throw .evaluation("no such key: \(Conversions.displayString(key))") }
            return value
        default:
            throw .noSuchOverload
        }
    }
}

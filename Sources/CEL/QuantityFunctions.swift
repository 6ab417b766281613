import APIMachinery

/// Kubernetes' quantity library: `quantity()`, `isQuantity()` and the methods of quantity values.
enum QuantityFunctions {
    static func parse(_ text: String, check: Bool) throws(CELError) -> CELValue {
        do {
            let quantity = try Quantity(parsing: text)
            return check ? .bool(true) : .quantity(quantity)
        } catch {
            if check { return .bool(false) }
            throw .evaluation(error.description)
        }
    }

    static func call(_ function: Function, _ q: Quantity, _ args: [CELValue]) throws(CELError) -> CELValue {
        switch (function, args.count) {
        case (.sign, 0): return .int(Int64(q.sign))
        case (.isInteger, 0): return .bool(exactInteger(q) != nil)
        case (.asInteger, 0):
            guard let value = exactInteger(q) else { throw .evaluation("cannot convert value to integer") }
            return .int(value)
        case (.asApproximateFloat, 0): return .double(approximate(q))
        case (.compareTo, 1):
            let other = try quantity(args[0])
            return .int(q < other ? -1 : q == other ? 0 : 1)
        case (.isGreaterThan, 1): return .bool(q > (try quantity(args[0])))
        case (.isLessThan, 1): return .bool(q < (try quantity(args[0])))
        case (.quantityAdd, 1): return .quantity(q + (try operand(args[0])))
        case (.sub, 1): return .quantity(q - (try operand(args[0])))
        default: throw .noSuchOverload
        }
    }

    private static func quantity(_ value: CELValue) throws(CELError) -> Quantity {
        guard case .quantity(let q) = value else { throw .noSuchOverload }
        return q
    }

    /// `add` and `sub` take a quantity or an int.
    private static func operand(_ value: CELValue) throws(CELError) -> Quantity {
        switch value {
        case .quantity(let q): return q
        case .int(let i): return Quantity(i)
        default: throw .noSuchOverload
        }
    }

    /// The value when it is a whole number within int64, as upstream's `AsInt64`.
    private static func exactInteger(_ q: Quantity) -> Int64? {
        let value = q.value
        return Quantity(value) == q ? value : nil
    }

    /// Nano-unit precision while that fits, else whole units, as a double.
    private static func approximate(_ q: Quantity) -> Double {
        let nanos = q.scaledValue(scale: -9)
        if nanos != .max && nanos != .min { return Double(nanos) / 1e9 }
        let units = q.value
        if units != .max && units != .min { return Double(units) }
        return Double(q.canonical) ?? (q.sign < 0 ? -.infinity : .infinity)
    }
}

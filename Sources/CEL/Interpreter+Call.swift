/// Function dispatch: each call picks its overload from the receiver and argument kinds, and charges
/// what cel-go's cost model would for size-dependent work (about one unit per ten characters or
/// per list element touched).
extension Interpreter {
    mutating func call(_ function: Function, method: Bool, _ args: [CELValue]) throws(CELError) -> CELValue {
        switch function {
        case .add, .subtract, .multiply, .divide, .modulo, .equals, .notEquals, .less, .lessOrEqual, .greater,
            .greaterOrEqual, .in:
            guard args.count == 2, !method else { throw .noSuchOverload }
            return try binary(function, args[0], args[1])
        case .negate:
            guard args.count == 1 else { throw .noSuchOverload }
            return try Operators.negate(args[0])
        case .not:
            guard args.count == 1, case .bool(let value) = args[0] else { throw .noSuchOverload }
            return .bool(!value)
        case .size:
            guard args.count == 1 else { throw .noSuchOverload }
            switch args[0] {
            case .string(let s): return .int(Int64(s.unicodeScalars.count))
            case .bytes(let b): return .int(Int64(b.count))
            case .list(let l): return .int(Int64(l.count))
            case .map(let m): return .int(Int64(m.count))
            default: throw .noSuchOverload
            }
        case .int, .uint, .double, .string, .bool, .bytes, .type, .dyn, .duration, .timestamp:
            guard args.count == 1, !method else { throw .noSuchOverload }
            return try Conversions.convert(function, args[0])
        case .getFullYear, .getMonth, .getDayOfYear, .getDayOfMonth, .getDate, .getDayOfWeek, .getHours,
            .getMinutes, .getSeconds, .getMilliseconds:
            guard method else { throw .noSuchOverload }
            return try TimeFunctions.get(function, args)
        case .matches, .find, .findAll:
            guard method || function == .matches, args.count >= 2, case .string(let receiver) = args[0],
                case .string(let pattern) = args[1]
            else { throw .noSuchOverload }
            try chargeSize(receiver.utf8.count)
            return try regex(pattern).call(function, receiver, Array(args.dropFirst(2)))
        case .contains, .startsWith, .endsWith, .lowerAscii, .upperAscii, .trim, .split, .replace, .substring,
            .charAt:
            guard method, case .string(let receiver) = args.first else { throw .noSuchOverload }
            try chargeSize(receiver.utf8.count)
            return try StringFunctions.call(function, receiver, Array(args.dropFirst()))
        case .indexOf, .lastIndexOf:
            guard method, let receiver = args.first else { throw .noSuchOverload }
            if case .string(let s) = receiver {
                try chargeSize(s.utf8.count)
                return try StringFunctions.call(function, s, Array(args.dropFirst()))
            }
            guard case .list(let list) = receiver, args.count == 2 else { throw .noSuchOverload }
            try charge(Int64(list.count))
            let found = function == .indexOf ? list.firstIndex(of: args[1]) : list.lastIndex(of: args[1])
            return .int(found.map { Int64($0) } ?? -1)
        case .join:
            guard method, case .list(let list) = args.first else { throw .noSuchOverload }
            try charge(Int64(list.count))
            return try StringFunctions.join(list, Array(args.dropFirst()))
        case .isSorted, .sum, .min, .max:
            guard method, args.count == 1, case .list(let list) = args[0] else { throw .noSuchOverload }
            try charge(Int64(list.count))
            return try ListFunctions.call(function, list)
        case .optionalOf, .optionalNone, .optionalOfNonZeroValue, .hasValue, .value, .orValue, .or:
            return try OptionalFunctions.call(function, method: method, args)
        case .quantity, .isQuantity:
            guard !method, args.count == 1, case .string(let text) = args[0] else { throw .noSuchOverload }
            return try QuantityFunctions.parse(text, check: function == .isQuantity)
        case .compareTo, .isGreaterThan, .isLessThan, .quantityAdd, .sub, .asInteger, .isInteger,
            .asApproximateFloat, .sign:
            guard method, case .quantity(let receiver) = args.first else { throw .noSuchOverload }
            return try QuantityFunctions.call(function, receiver, Array(args.dropFirst()))
        }
    }

    private mutating func binary(_ function: Function, _ lhs: CELValue, _ rhs: CELValue) throws(CELError) -> CELValue {
        switch function {
        case .add:
            if case .list(let a) = lhs, case .list(let b) = rhs { try charge(Int64(a.count + b.count) / 10) }
            if case .string(let a) = lhs, case .string(let b) = rhs { try chargeSize(a.utf8.count + b.utf8.count) }
            return try Operators.add(lhs, rhs)
        case .subtract: return try Operators.subtract(lhs, rhs)
        case .multiply: return try Operators.multiply(lhs, rhs)
        case .divide: return try Operators.divide(lhs, rhs)
        case .modulo: return try Operators.modulo(lhs, rhs)
        case .equals, .notEquals:
            try chargeEquality(lhs)
            return .bool((lhs == rhs) == (function == .equals))
        case .less: return .bool(try Operators.compare(lhs, rhs) == .less)
        case .lessOrEqual: return .bool([.less, .equal].contains(try Operators.compare(lhs, rhs)))
        case .greater: return .bool(try Operators.compare(lhs, rhs) == .greater)
        case .greaterOrEqual: return .bool([.greater, .equal].contains(try Operators.compare(lhs, rhs)))
        case .in:
            if case .list(let list) = rhs { try charge(Int64(list.count)) }
            return .bool(try Operators.contains(rhs, lhs))
        default: throw .noSuchOverload
        }
    }

    /// About one unit per ten bytes, as cel-go charges string traversal.
    private mutating func chargeSize(_ count: Int) throws(CELError) {
        try charge(Int64(count / 10))
    }

    private mutating func chargeEquality(_ value: CELValue) throws(CELError) {
        switch value {
        case .string(let s): try chargeSize(s.utf8.count)
        case .list(let l): try charge(Int64(l.count))
        case .map(let m): try charge(Int64(m.count))
        default: break
        }
    }
}

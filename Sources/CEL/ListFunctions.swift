/// Kubernetes' lists library: `isSorted`, `sum`, `min`, `max` (`indexOf` and `lastIndexOf` are
/// dispatched with the string functions of the same names).
enum ListFunctions {
    static func call(_ function: Function, _ list: [CELValue]) throws(CELError) -> CELValue {
        switch function {
        case .isSorted:
            for (previous, next) in zip(list, list.dropFirst()) where try Operators.compare(previous, next) == .greater
            {
                return .bool(false)
            }
            return .bool(true)
        case .sum:
            guard var total = list.first else { return .int(0) }
            for item in list.dropFirst() { total = try Operators.add(total, item) }
            switch total {
            case .int, .uint, .double, .duration: return total
            default: throw .noSuchOverload
            }
        case .min, .max:
            guard var best = list.first else {
                throw .evaluation("\(function == .min ? "min" : "max") called on empty list")
            }
            let wanted: Order = function == .min ? .less : .greater
            // Comparing the first element with itself checks that a one-element list is comparable too.
            _ = try Operators.compare(best, best)
            for item in list.dropFirst() where try Operators.compare(item, best) == wanted { best = item }
            return best
        default:
            throw .noSuchOverload
        }
    }
}

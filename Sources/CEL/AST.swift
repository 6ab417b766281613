/// The parsed expression, macros already expanded; evaluated by `Interpreter`.
indirect enum Expr: Sendable {
    case literal(CELValue)
    /// A variable, a comprehension variable or a type name, with its source offset for messages.
    case identifier(String, offset: Int)
    /// `operand.field`: a map lookup (or a message field, which we do not have).
    case select(Expr, field: String)
    /// `operand.?field`: an optional of the field, none when absent.
    case optionalSelect(Expr, field: String)
    /// `operand[?key]`.
    case optionalIndex(Expr, Expr)
    /// `has(operand.field)`.
    case presence(Expr, field: String)
    case index(Expr, Expr)
    case call(Function, target: Expr?, arguments: [Expr])
    case list([Expr])
    case map([(key: Expr, value: Expr)])
    case and(Expr, Expr)
    case or(Expr, Expr)
    case conditional(Expr, Expr, Expr)
    case comprehension(Comprehension)
}

/// An expanded macro: iterate `range` (a list's elements or a map's keys) binding `variable`.
struct Comprehension: Sendable {
    enum Kind: Sendable {
        case all
        case exists
        case existsOne
        /// `map(x, t)`, or `map(x, p, t)` with `predicate` set.
        case map
        case filter
    }

    var kind: Kind
    var range: Expr
    var variable: String
    /// The predicate for all/exists/exists_one/filter and the three-argument map's filter.
    var predicate: Expr?
    /// The transform of `map`.
    var transform: Expr?
}

/// Every function and operator the evaluator knows; the raw value is the name an expression uses.
enum Function: String, Sendable {
    // Operators (internal names as cel-go's overload ids).
    case add = "_+_"
    case subtract = "_-_"
    case multiply = "_*_"
    case divide = "_/_"
    case modulo = "_%_"
    case negate = "-_"
    case not = "!_"
    case equals = "_==_"
    case notEquals = "_!=_"
    case less = "_<_"
    case lessOrEqual = "_<=_"
    case greater = "_>_"
    case greaterOrEqual = "_>=_"
    case `in` = "@in"

    // Standard library.
    case size, contains, startsWith, endsWith, matches
    case int, uint, double, string, bool, bytes, type, duration, timestamp, dyn
    case getFullYear, getMonth, getDayOfYear, getDayOfMonth, getDate, getDayOfWeek
    case getHours, getMinutes, getSeconds, getMilliseconds

    // Kubernetes libraries.
    case isSorted, sum, min, max, indexOf, lastIndexOf
    case lowerAscii, upperAscii, trim, split, join, replace, substring, charAt
    case find, findAll
    case quantity, isQuantity, compareTo, isGreaterThan, isLessThan, sub, asInteger, isInteger
    case asApproximateFloat, sign

    // Optionals.
    case optionalOf = "optional.of"
    case optionalNone = "optional.none"
    case optionalOfNonZeroValue = "optional.ofNonZeroValue"
    case hasValue, value, orValue
    case or
    // `add` on quantities shares the `_+_` case's name only in spirit; it is a method of its own.
    case quantityAdd = "add"
}

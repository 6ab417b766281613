/// The CEL module evaluates Common Expression Language expressions, as Kubernetes uses them for
/// `x-kubernetes-validations` rules and ValidatingAdmissionPolicy.
///
/// ```swift
/// let rule = try CELProgram(compiling: "self.minReplicas <= self.replicas", variables: ["self", "oldSelf"])
/// let ok = try rule.evaluate(["self": CELValue(json: object)])   // .bool(true)
/// ```
///
/// - `CELProgram(compiling:variables:)` parses once (macros expanded, function names and, when
///   `variables` is given, identifiers checked) and is `Sendable`, so one program serves every request.
/// - `evaluate(_:costLimit:)` runs it with CEL's semantics (heterogeneous numeric equality, overflow and
///   division errors, commutative `&&`/`||` that absorb errors) and stops with upstream's
///   `operation cancelled: actual cost limit exceeded` once its runtime cost passes `costLimit`.
/// - `CELValue(json:)` turns a schema-less `JSON` document into CEL values (objects are maps with string
///   keys, integral JSON numbers are `int`); `CELValue.json` goes back.
///
/// Beside the standard library it has Kubernetes' libraries: lists (`isSorted`, `sum`, `min`, `max`,
/// `indexOf`, `lastIndexOf`), strings (`lowerAscii`, `upperAscii`, `trim`, `split`, `join`, `replace`,
/// `substring`, `indexOf`, `lastIndexOf`, `charAt`), regex (`find`, `findAll`), `quantity()`, and cel-go's
/// optionals (`x.?f`, `l[?i]`, `optional.of/none`, `hasValue`, `value`, `orValue`, `or`) for rules with
/// `optionalOldSelf` (bind `oldSelf` as `.optional(nil)` on a create).
///
/// There is no type checker: a type error (`'a' + 1`) surfaces when evaluated, as `no such overload`.
public struct CELProgram: Sendable {
    /// Kubernetes' per-expression runtime cost limit (`PerCallLimit`).
    public static let defaultCostLimit: Int64 = 1_000_000

    /// The expression's text, as compiled.
    public let source: String
    let root: Expr

    /// Parses `source`; with `variables`, an identifier that is neither one of them nor a
    /// comprehension variable or type name is refused here rather than when evaluated.
    public init(compiling source: String, variables: Set<String>? = nil) throws(CELError) {
        self.source = source
        var parser = try Parser(source: source)
        let root = try parser.parseExpression()
        if let variables {
            try Checker(source: source, declared: variables).check(root)
        }
        self.root = root
    }

    /// Whether the expression reads the variable `name` outside any comprehension that rebinds it,
    /// e.g. whether a validation rule is a transition rule (reads `oldSelf`).
    public func references(variable name: String) -> Bool {
        Checker.references(root, name)
    }

    /// Evaluates the program with `variables` bound, within `costLimit`.
    public func evaluate(
        _ variables: [String: CELValue], costLimit: Int64 = CELProgram.defaultCostLimit
    ) throws(CELError) -> CELValue {
        try evaluateReportingCost(variables, costLimit: costLimit).value
    }

    /// Evaluates the program and reports the runtime cost it used, so a caller can charge a budget
    /// shared by several rules (Kubernetes' per-object `RuntimeCELCostBudget`).
    public func evaluateReportingCost(
        _ variables: [String: CELValue], costLimit: Int64 = CELProgram.defaultCostLimit
    ) throws(CELError) -> (value: CELValue, cost: Int64) {
        var interpreter = Interpreter(variables: variables, costLimit: costLimit)
        let value = try interpreter.evaluate(root)
        return (value, interpreter.cost)
    }
}

/// Why an expression did not compile or evaluate; `description` is upstream's message.
public struct CELError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Which stage failed.
    public enum Kind: Sendable, Hashable {
        /// The text is not a valid expression (syntax, unknown function or variable, bad macro use).
        case compile
        /// Evaluation failed (no such key, overflow, no matching overload…).
        case evaluation
        /// The runtime cost limit was exceeded; never absorbed by `&&` or `||`.
        case costLimitExceeded
    }

    /// Which stage failed.
    public var kind: Kind
    /// Upstream's text: `ERROR: <input>:1:5: …` with the source line for compile errors, or the runtime
    /// error alone (`no such key: x`).
    public var message: String

    /// An error of `kind` with `message`, for hosts and tests.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    static func evaluation(_ message: String) -> CELError { CELError(.evaluation, message) }
    static let noSuchOverload = CELError(.evaluation, "no such overload")
    static let costLimit = CELError(.costLimitExceeded, "operation cancelled: actual cost limit exceeded")
    static let integerOverflow = CELError(.evaluation, "integer overflow")
    static let unsignedOverflow = CELError(.evaluation, "unsigned integer overflow")
}

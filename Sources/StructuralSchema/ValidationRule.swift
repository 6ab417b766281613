public import APIMachinery
import CEL

/// One `x-kubernetes-validations` entry (upstream's `ValidationRule`).
public struct ValidationRule: Sendable, Equatable {
    public let rule: String
    public let message: String
    public let messageExpression: String
    /// `FieldValueInvalid` (the default), `FieldValueForbidden`, `FieldValueRequired` or `FieldValueDuplicate`.
    public let reason: String?
    /// A JSON path relative to the rule's node (e.g. `.spec.replicas`) the error is reported at.
    public let fieldPath: String
    public let optionalOldSelf: Bool

    public init(
        rule: String, message: String = "", messageExpression: String = "", reason: String? = nil,
        fieldPath: String = "", optionalOldSelf: Bool = false
    ) {
        self.rule = rule
        self.message = message
        self.messageExpression = messageExpression
        self.reason = reason
        self.fieldPath = fieldPath
        self.optionalOldSelf = optionalOldSelf
        isTransitionRule = (try? CELProgram(compiling: rule))?.references(variable: "oldSelf") ?? false
    }

    init?(parsing json: JSON) {
        guard let object = json.objectValue else { return nil }
        self.init(
            rule: object["rule"]?.stringValue ?? "", message: object["message"]?.stringValue ?? "",
            messageExpression: object["messageExpression"]?.stringValue ?? "",
            reason: object["reason"]?.stringValue, fieldPath: object["fieldPath"]?.stringValue ?? "",
            optionalOldSelf: object["optionalOldSelf"]?.boolValue ?? false)
    }

    /// A transition rule reads `oldSelf`, so it runs only on updates where an old value correlates
    /// (unless `optionalOldSelf`), as upstream.
    public let isTransitionRule: Bool

    /// Upstream's `ruleErrorString`: the message when there is one, else the rule.
    var errorString: String {
        message.isEmpty ? rule.trimmingWhitespace : message.trimmingWhitespace
    }

    /// Upstream's message for a failed rule: its message, or `failed rule: <rule>`.
    var defaultMessage: String {
        message.isEmpty ? "failed rule: " + errorString : message.trimmingWhitespace
    }
}

/// What the schema needs from a CEL implementation to evaluate `x-kubernetes-validations`. The `CEL` module
/// provides one; the schema module stays independent of it so a CRD can be checked and served without it.
public protocol ValidationRuleEvaluator: Sendable {
    /// Evaluates `rule` with `self` bound to `value` and `oldSelf` to `oldValue` (nil on a create, or when no old
    /// value correlates and the rule has `optionalOldSelf`). Returns the expression's value (a rule yields a bool,
    /// a `messageExpression` a string) or throws a `ValidationRuleEvaluationError`.
    func evaluate(_ expression: String, value: JSON, oldValue: JSON?, node: SchemaNode) throws -> JSON
}

/// A rule that could not be evaluated (a compile or runtime error, or the cost limit).
public struct ValidationRuleEvaluationError: Error, Sendable, Equatable {
    /// Which stage failed; upstream words each differently.
    public enum Kind: Sendable, Equatable { case compile, evaluation, costLimitExceeded }

    public var kind: Kind
    public let message: String
    public init(_ kind: Kind = .evaluation, message: String) {
        self.kind = kind
        self.message = message
    }
}

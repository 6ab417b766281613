public import APIMachinery
import Foundation

/// One `x-kubernetes-validations` entry (upstream's `ValidationRule`).
public struct ValidationRule: Sendable, Equatable {
    public var rule: String
    public var message: String
    public var messageExpression: String
    /// `FieldValueInvalid` (the default), `FieldValueForbidden`, `FieldValueRequired` or `FieldValueDuplicate`.
    public var reason: String?
    /// A JSON path relative to the rule's node (e.g. `.spec.replicas`) the error is reported at.
    public var fieldPath: String
    public var optionalOldSelf: Bool

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
    public var isTransitionRule: Bool { Self.mentionsOldSelf(rule) }

    static func mentionsOldSelf(_ text: String) -> Bool {
        // An identifier match, so `myoldSelfish` does not count.
        let scalars = Array(text.unicodeScalars)
        let target = Array("oldSelf".unicodeScalars)
        guard scalars.count >= target.count else { return false }
        func isIdentifier(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "_" || scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
        }
        for start in 0...(scalars.count - target.count) where Array(scalars[start..<start + target.count]) == target {
            let before = start == 0 || !isIdentifier(scalars[start - 1])
            let afterIndex = start + target.count
            let after = afterIndex == scalars.count || !isIdentifier(scalars[afterIndex])
            if before && after { return true }
        }
        return false
    }

    /// Upstream's message for a failed rule without `message`: `failed rule: <rule>`.
    var defaultMessage: String {
        let trimmed = rule.trimmingCharacters(in: .whitespacesAndNewlines)
        if !message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return message }
        return "failed rule: " + trimmed
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
    public var message: String
    public init(message: String) { self.message = message }
}

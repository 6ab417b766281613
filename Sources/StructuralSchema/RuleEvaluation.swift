import APIMachinery

/// Runs `x-kubernetes-validations` through a `ValidationRuleEvaluator`, walking the value with the schema and,
/// on updates, the old value where it correlates (same property, same map key, same list-map key), as upstream.
struct RuleEvaluation {
    let evaluator: any ValidationRuleEvaluator

    func validate(_ value: JSON, old: JSON?, against schema: SchemaNode, path: String) -> [FieldError] {
        var errors = rules(value, old: old, schema, path: path)
        switch value {
        case .object(let object):
            for (key, member) in object {
                if let property = schema.property(key) {
                    errors += validate(member, old: old?[key], against: property, path: Path.child(path, key))
                } else if let additional = schema.additionalPropertiesSchema {
                    errors += validate(member, old: old?[key], against: additional, path: Path.key(path, key))
                }
            }
        case .array(let array):
            guard let items = schema.items else { break }
            let oldItems = old?.arrayValue ?? []
            for (index, item) in array.enumerated() {
                let oldItem = schema.listType == "map" ? correlate(item, in: oldItems, keys: schema.listMapKeys) : nil
                errors += validate(item, old: oldItem, against: items, path: Path.index(path, index))
            }
        default:
            break
        }
        return errors
    }

    private func correlate(_ item: JSON, in oldItems: [JSON], keys: [String]) -> JSON? {
        oldItems.first { old in keys.allSatisfy { old[$0] == item[$0] } }
    }

    private func rules(_ value: JSON, old: JSON?, _ schema: SchemaNode, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        // Upstream reports the structural type; int-or-string and untyped fields have none.
        let type = schema.intOrString ? "" : (schema.type ?? "")
        let nodePath = path.isEmpty ? "<nil>" : path
        for rule in schema.validations {
            // A transition rule needs an old value unless it declares oldSelf optional.
            if rule.isTransitionRule && old == nil && !rule.optionalOldSelf { continue }
            do {
                let result = try evaluator.evaluate(rule.rule, value: value, oldValue: old, node: schema)
                guard result.boolValue != true else { continue }
                var message = rule.defaultMessage
                if !rule.messageExpression.isEmpty,
                    let text = try? evaluator.evaluate(
                        rule.messageExpression, value: value, oldValue: old, node: schema
                    )
                    .stringValue, !text.trimmingWhitespace.isEmpty
                {
                    message = text
                }
                errors.append(Self.error(Self.join(path, rule.fieldPath), type, message, rule.reason))
            } catch let error as ValidationRuleEvaluationError {
                let detail: String
                switch error.kind {
                case .compile: detail = "rule compile error: \(error.message)"
                case .evaluation: detail = "\(error.message) evaluating rule: \(rule.errorString)"
                case .costLimitExceeded:
                    detail =
                        "'\(error.message)': no further validation rules will be run due to call cost exceeds limit for rule: \(rule.errorString)"
                }
                errors.append(.invalid(nodePath, .string(type), detail))
                if error.kind == .costLimitExceeded { break }
            } catch {
                errors.append(.invalid(nodePath, .string(type), "\(error) evaluating rule: \(rule.errorString)"))
            }
        }
        return errors
    }

    /// The rule's `fieldPath` (`.spec.x`) below the node's path; `<nil>` for the root itself, as upstream.
    private static func join(_ path: String, _ fieldPath: String) -> String {
        let relative = fieldPath.trimmingWhitespace
        let joined = path.isEmpty && relative.hasPrefix(".") ? String(relative.dropFirst()) : path + relative
        return joined.isEmpty ? "<nil>" : joined
    }

    /// Upstream's `fieldErrorForReason`: the rule's reason picks the error type; the value is the schema type.
    static func error(_ path: String, _ type: String, _ message: String, _ reason: String?) -> FieldError {
        switch reason {
        case "FieldValueForbidden": return .forbidden(path, message)
        case "FieldValueRequired": return .required(path, message)
        case "FieldValueDuplicate": return FieldError(.duplicate, path, value: .string(type), detail: message)
        default: return .invalid(path, .string(type), message)
        }
    }
}

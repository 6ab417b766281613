import APIMachinery
import StructuralSchema
import XCTest

/// A stand-in evaluator that knows two rules, to prove the walk, correlation and messages around it.
private struct FakeEvaluator: ValidationRuleEvaluator {
    func evaluate(_ expression: String, value: JSON, oldValue: JSON?, node: SchemaNode) throws -> JSON {
        switch expression {
        case "self >= 0": return .bool((value.intValue ?? 0) >= 0)
        case "self == oldSelf": return .bool(oldValue == nil || value == oldValue)
        case "'bad: ' + string(self)": return .string("bad: \(value.intValue ?? 0)")
        default: throw ValidationRuleEvaluationError(message: "unknown rule")
        }
    }
}

final class RuleHookTests: XCTestCase {
    private func schema() throws -> StructuralSchema {
        var schema = try StructuralSchema(openAPIV3Schema: [
            "type": "object",
            "properties": [
                "spec": [
                    "type": "object",
                    "properties": [
                        "replicas": [
                            "type": "integer",
                            "x-kubernetes-validations": [
                                ["rule": "self >= 0", "messageExpression": "'bad: ' + string(self)"]
                            ],
                        ],
                        "name": [
                            "type": "string",
                            "x-kubernetes-validations": [
                                [
                                    "rule": "self == oldSelf", "message": "name is immutable",
                                    "reason": "FieldValueForbidden",
                                ]
                            ],
                        ],
                    ],
                ]
            ],
        ])
        schema.ruleEvaluator = FakeEvaluator()
        return schema
    }

    func testRulesAreParsedAndEvaluatedWithMessagesAndReasons() throws {
        let schema = try schema()
        XCTAssertEqual(schema.validationRules.map(\.path), ["spec.replicas", "spec.name"])
        XCTAssertEqual(schema.validationRules.map(\.rule.isTransitionRule), [false, true])
        XCTAssertEqual(schema.validate(["spec": ["replicas": 1, "name": "a"]]), [])
        XCTAssertEqual(
            schema.validate(["spec": ["replicas": -1]]).map(\.description),
            [#"spec.replicas: Invalid value: "integer": bad: -1"#])
        // The transition rule runs only on updates, against the correlated old value.
        XCTAssertEqual(
            schema.validateUpdate(["spec": ["name": "b"]], old: ["spec": ["name": "a"]]).map(\.description),
            ["spec.name: Forbidden: name is immutable"])
        XCTAssertEqual(schema.validateUpdate(["spec": ["name": "a"]], old: ["spec": ["name": "a"]]), [])
    }

    func testWithoutAnEvaluatorRulesAreKeptButNotRun() throws {
        var schema = try schema()
        schema.ruleEvaluator = nil
        XCTAssertEqual(schema.validate(["spec": ["replicas": -1]]), [])
        XCTAssertEqual(schema.validationRules.count, 2)
    }
}

import APIMachinery
import StructuralSchema
import XCTest

/// `x-kubernetes-validations` evaluated by the CEL module, with upstream's messages.
final class CELRulesTests: XCTestCase {
    private let root = "spec.versions[0].schema.openAPIV3Schema"

    private func schema() throws -> StructuralSchema {
        try StructuralSchema(openAPIV3Schema: [
            "type": "object",
            "properties": [
                "spec": [
                    "type": "object",
                    "x-kubernetes-validations": [
                        ["rule": "self.minReplicas <= self.replicas", "message": "replicas below minimum"],
                        ["rule": "self.replicas < 100", "fieldPath": ".replicas", "reason": "FieldValueForbidden"],
                    ],
                    "properties": [
                        "replicas": ["type": "integer"], "minReplicas": ["type": "integer"],
                        "immutable": [
                            "type": "string", "x-kubernetes-validations": [["rule": "self == oldSelf"]],
                        ],
                        "ports": [
                            "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                            "items": [
                                "type": "object", "required": ["name"],
                                "properties": ["name": ["type": "string"], "port": ["type": "integer"]],
                                "x-kubernetes-validations": [
                                    [
                                        "rule": "self.port >= oldSelf.port",
                                        "messageExpression": "'port ' + self.name + ' may not shrink'",
                                    ]
                                ],
                            ],
                        ],
                    ],
                ]
            ],
        ])
    }

    func testRulesRunWithSelfAndReportUpstreamsMessages() throws {
        let schema = try schema()
        XCTAssertEqual(schema.validate(["spec": ["replicas": 3, "minReplicas": 1]]), [])
        XCTAssertEqual(
            schema.validate(["spec": ["replicas": 1, "minReplicas": 2]]).map(\.description),
            [#"spec: Invalid value: "object": replicas below minimum"#])
        XCTAssertEqual(
            schema.validate(["spec": ["replicas": 100, "minReplicas": 2]]).map(\.description),
            ["spec.replicas: Forbidden: failed rule: self.replicas < 100"])
        XCTAssertEqual(
            schema.validate(["spec": ["replicas": 1]]).map(\.description),
            [#"spec: Invalid value: "object": no such key: minReplicas evaluating rule: replicas below minimum"#])
    }

    func testTransitionRulesSeeTheCorrelatedOldValue() throws {
        let schema = try schema()
        let old: JSON = [
            "spec": ["replicas": 1, "minReplicas": 1, "immutable": "a", "ports": [["name": "http", "port": 80]]]
        ]
        XCTAssertEqual(schema.validateUpdate(old, old: old), [])
        var changed = old
        changed.set(["spec", "immutable"], to: "b")
        changed.set(["spec", "ports"], to: [["name": "https", "port": 1], ["name": "http", "port": 79]])
        XCTAssertEqual(
            schema.validateUpdate(changed, old: old).map(\.description),
            [
                #"spec.immutable: Invalid value: "string": failed rule: self == oldSelf"#,
                #"spec.ports[1]: Invalid value: "object": port http may not shrink"#,
            ])
        // A create has no old value: transition rules do not run.
        XCTAssertEqual(schema.validate(changed), [])
    }

    func testRuleCompileErrorsAndUncorrelatableOldSelfAreRefusedInTheSchema() {
        let errors = StructuralSchema.check(openAPIV3Schema: [
            "type": "object",
            "properties": [
                "a": ["type": "string", "x-kubernetes-validations": [["rule": "self ==="]]],
                "b": [
                    "type": "array",
                    "items": ["type": "string", "x-kubernetes-validations": [["rule": "self == oldSelf"]]],
                ],
                "c": [
                    "type": "string", "x-kubernetes-validations": [["rule": "self == 'x'", "optionalOldSelf": true]],
                ],
            ],
        ]).map(\.description)
        XCTAssertEqual(errors.count, 3, "\(errors)")
        XCTAssertTrue(
            errors[0].hasPrefix("\(root).properties[a].x-kubernetes-validations[0].rule: Invalid value: "), errors[0])
        XCTAssertTrue(errors[0].contains("compilation failed: "), errors[0])
        XCTAssertEqual(
            errors[1],
            #"\#(root).properties[b].items.x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within \#(root).properties[b]"#
        )
        XCTAssertEqual(
            errors[2],
            "\(root).properties[c].x-kubernetes-validations[0].optionalOldSelf: Invalid value: true: may not be set if oldSelf is not used in rule"
        )
    }
}

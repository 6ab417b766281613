import APIMachinery
import StructuralSchema
import XCTest

/// The structural check's messages and paths, as upstream reports them for `spec.versions[0]`.
final class StructuralCheckTests: XCTestCase {
    private let root = "spec.versions[0].schema.openAPIV3Schema"

    private func check(_ schema: JSON) -> [String] {
        StructuralSchema.check(openAPIV3Schema: schema).map(\.description)
    }

    private func object(_ properties: JSON) -> JSON { ["type": "object", "properties": properties] }

    func testAStructuralSchemaPassesAndParses() throws {
        let schema: JSON = object([
            "metadata": ["type": "object", "properties": ["name": ["type": "string", "maxLength": 20]]],
            "spec": [
                "type": "object",
                "properties": [
                    "port": ["x-kubernetes-int-or-string": true, "anyOf": [["type": "integer"], ["type": "string"]]],
                    "labels": ["type": "object", "additionalProperties": ["type": "string"]],
                    "items": [
                        "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                        "items": object(["name": ["type": "string", "default": "main"]]),
                    ],
                    "template": [
                        "type": "object", "x-kubernetes-embedded-resource": true,
                        "x-kubernetes-preserve-unknown-fields": true,
                    ],
                    "replicas": ["type": "integer", "default": 1, "x-kubernetes-validations": [["rule": "self >= 0"]]],
                ],
                "oneOf": [["required": ["port"]], ["required": ["items"]]],
            ],
        ])
        XCTAssertEqual(check(schema), [])
        let parsed = try StructuralSchema(openAPIV3Schema: schema)
        XCTAssertEqual(parsed.validationRules.map(\.path), ["spec.replicas"])
        XCTAssertEqual(parsed.validationRules.first?.rule, ValidationRule(rule: "self >= 0"))
    }

    func testEachStructuralRuleWithUpstreamsMessage() {
        let cases: [(schema: JSON, errors: [String])] = [
            (
                ["properties": ["a": ["type": "string"]]],
                ["\(root).type: Required value: must not be empty at the root"]
            ),
            (
                ["type": "array", "items": ["type": "string"]],
                [#"\#(root).type: Invalid value: "array": must be object at the root"#]
            ),
            (
                object(["a": [:]]),
                ["\(root).properties[a].type: Required value: must not be empty for specified object fields"]
            ),
            (object(["a": ["type": "array"]]), ["\(root).properties[a].items: Required value: must be specified"]),
            (
                object(["a": ["type": "array", "items": [:]]]),
                ["\(root).properties[a].items.type: Required value: must not be empty for specified array items"]
            ),
            (
                ["type": "object", "additionalProperties": ["type": "string"]],
                ["\(root).additionalProperties: Forbidden: must not be used at the root"]
            ),
            (
                object([
                    "a": [
                        "type": "object", "properties": ["b": ["type": "string"]],
                        "additionalProperties": ["type": "string"],
                    ]
                ]),
                [
                    "\(root).properties[a].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"
                ]
            ),
            (
                object(["metadata": ["type": "object", "properties": ["labels": ["type": "object"]]]]),
                [
                    "\(root).properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified"
                ]
            ),
            (
                object(["kind": ["type": "integer"]]),
                [#"\#(root).properties[kind].type: Invalid value: "integer": must be string"#]
            ),
            (
                object(["a": ["type": "string", "allOf": [["type": "string", "description": "d"]]]]),
                [
                    "\(root).properties[a].allOf[0].description: Forbidden: must be empty to be structural",
                    "\(root).properties[a].allOf[0].type: Forbidden: must be empty to be structural",
                ]
            ),
            (
                object(["a": ["type": "string", "anyOf": [["nullable": true, "default": "x"]]]]),
                [
                    "\(root).properties[a].anyOf[0].default: Forbidden: must be undefined to be structural",
                    "\(root).properties[a].anyOf[0].nullable: Forbidden: must be false to be structural",
                ]
            ),
            (
                object(["a": ["type": "object", "not": ["properties": ["metadata": [:]]]]]),
                ["\(root).properties[a].not.properties[metadata]: Forbidden: must not be specified in a nested context"]
            ),
            (
                ["type": "object", "anyOf": [["properties": ["spec": [:]]]]],
                ["\(root).properties[spec]: Required value: because it is defined in \(root).anyOf[0].properties[spec]"]
            ),
            (
                object(["e": ["type": "string", "x-kubernetes-embedded-resource": true]]),
                [
                    #"\#(root).properties[e].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"#,
                    #"\#(root).properties[e].type: Invalid value: "string": must be object if x-kubernetes-embedded-resource is true"#,
                ]
            ),
            (
                object(["i": ["x-kubernetes-int-or-string": true, "x-kubernetes-preserve-unknown-fields": true]]),
                [
                    "\(root).properties[i].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if x-kubernetes-int-or-string is true"
                ]
            ),
            (
                object(["r": ["$ref": "#/definitions/x"]]),
                [
                    "\(root).properties[r].type: Required value: must not be empty for specified object fields",
                    "\(root).properties[r].$ref: Forbidden: $ref is not supported",
                ]
            ),
            (
                object(["s": ["type": "string", "default": 5]]),
                [
                    #"\#(root).properties[s].default: Invalid value: "integer":  in body must be of type string: "integer""#
                ]
            ),
            (
                object(["s": ["type": "object", "properties": ["a": ["type": "string"]], "default": ["b": "x"]]]),
                [#"\#(root).properties[s].default: Invalid value: {"b":"x"}: must not have unknown fields"#]
            ),
            (
                object([
                    "metadata": [
                        "type": "object", "default": ["name": "x"], "properties": ["name": ["type": "string"]],
                    ]
                ]),
                ["\(root).properties[metadata].default: Forbidden: must not be set in top-level metadata"]
            ),
            (
                ["type": "object", "nullable": true],
                ["\(root).nullable: Forbidden: nullable cannot be true at the root"]
            ),
            (
                object(["t": ["type": "null"]]),
                [
                    #"\#(root).properties[t].type: Unsupported value: "null": supported values: "array", "boolean", "integer", "number", "object", "string""#,
                    "\(root).properties[t].type: Forbidden: type cannot be set to null, use nullable as an alternative",
                ]
            ),
            (
                object(["u": ["type": "array", "items": ["type": "string"], "uniqueItems": true]]),
                [
                    "\(root).properties[u].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic"
                ]
            ),
            (
                object(["l": ["type": "object", "x-kubernetes-list-type": "set"]]),
                [
                    #"\#(root).properties[l].type: Invalid value: "object": must be array if x-kubernetes-list-type is specified"#
                ]
            ),
            (
                object(["l": ["type": "array", "items": ["type": "string"], "x-kubernetes-list-type": "bag"]]),
                [
                    #"\#(root).properties[l].x-kubernetes-list-type: Unsupported value: "bag": supported values: "atomic", "set", "map""#
                ]
            ),
            (
                object([
                    "l": ["type": "array", "items": object(["k": ["type": "string"]]), "x-kubernetes-list-type": "map"]
                ]),
                [
                    "\(root).properties[l].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map"
                ]
            ),
            (
                object([
                    "l": [
                        "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"],
                        "items": ["type": "object", "required": ["k"], "properties": ["k": ["type": "object"]]],
                    ]
                ]),
                [
                    #"\#(root).properties[l].items.properties[k].type: Invalid value: "object": must be a scalar type if parent array's x-kubernetes-list-type is map"#
                ]
            ),
            (
                object([
                    "l": [
                        "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"],
                        "items": object(["k": ["type": "string"]]),
                    ]
                ]),
                [
                    "\(root).properties[l].items.properties[k].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"
                ]
            ),
            (
                object(["v": ["type": "string", "x-kubernetes-validations": [["rule": "", "reason": "Nope"]]]]),
                [
                    "\(root).properties[v].x-kubernetes-validations[0].rule: Required value: rule is not specified",
                    #"\#(root).properties[v].x-kubernetes-validations[0].reason: Unsupported value: "Nope": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired""#,
                ]
            ),
            (
                object(["p": ["type": "string", "x-kubernetes-preserve-unknown-fields": false]]),
                [
                    "\(root).properties[p].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined"
                ]
            ),
        ]
        for (index, test) in cases.enumerated() {
            XCTAssertEqual(check(test.schema), test.errors, "case \(index)")
        }
    }

    func testInitThrowsTheErrors() {
        XCTAssertThrowsError(try StructuralSchema(openAPIV3Schema: ["properties": [:]], fieldPath: "x")) { error in
            XCTAssertEqual(
                (error as? StructuralSchemaError)?.errors.map(\.description),
                ["x.type: Required value: must not be empty at the root"])
        }
        XCTAssertEqual(
            StructuralSchema.check(openAPIV3Schema: "nope", fieldPath: "x").map(\.description), ["x: Required value"])
    }
}

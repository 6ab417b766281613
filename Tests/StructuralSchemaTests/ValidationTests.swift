import APIMachinery
import StructuralSchema
import XCTest

/// Each rule with a valid and an invalid value, checked against upstream's exact messages and paths.
final class ValidationTests: XCTestCase {
    /// A custom resource whose `spec.x` follows `field`.
    private func errors(_ field: JSON, _ value: JSON, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            let schema = try StructuralSchema(openAPIV3Schema: [
                "type": "object", "properties": ["spec": ["type": "object", "properties": ["x": field]]],
            ])
            return schema.validate(["spec": ["x": value]]).map(\.description)
        } catch {
            XCTFail("schema refused: \(error)", file: file, line: line)
            return []
        }
    }

    func testEachRuleAcceptsValidAndRefusesInvalidWithUpstreamsMessage() {
        let cases: [(field: JSON, valid: JSON, invalid: JSON, message: [String])] = [
            (
                ["type": "integer"], 3, "three",
                [#"spec.x: Invalid value: "string": spec.x in body must be of type integer: "string""#]
            ),
            // kube-openapi's number validator also range-checks the value as an integer, unnamed.
            (
                ["type": "integer"], 3, .double(1.5),
                [
                    #"spec.x: Invalid value: "number": spec.x in body must be of type integer: "number""#,
                    #"<nil>: Invalid value: "": Checked value must be of type integer (default format) in spec.x"#,
                ]
            ),
            (
                ["type": "number"], 3, true,
                [#"spec.x: Invalid value: "boolean": spec.x in body must be of type number: "boolean""#]
            ),
            (
                ["type": "string"], "a", 1,
                [#"spec.x: Invalid value: "integer": spec.x in body must be of type string: "integer""#]
            ),
            (
                ["type": "boolean"], false, "no",
                [#"spec.x: Invalid value: "string": spec.x in body must be of type boolean: "string""#]
            ),
            (
                ["type": "array", "items": ["type": "string"]], ["a"], ["a": 1],
                [#"spec.x: Invalid value: "object": spec.x in body must be of type array: "object""#]
            ),
            (
                ["type": "object"], ["a": 1], ["a"],
                [#"spec.x: Invalid value: "array": spec.x in body must be of type object: "array""#]
            ),
            (
                ["type": "string"], "a", nil,
                [#"spec.x: Invalid value: "null": spec.x in body must be of type string: "null""#]
            ),
            (
                ["type": "string", "nullable": true], nil, 5,
                [#"spec.x: Invalid value: "integer": spec.x in body must be of type string: "integer""#]
            ),
            (
                ["type": "string", "enum": ["a", "b"]], "a", "x",
                [#"spec.x: Unsupported value: "x": supported values: "a", "b""#]
            ),
            (
                ["type": "integer", "enum": [1, 2]], 2, 3,
                [#"spec.x: Unsupported value: 3: supported values: "1", "2""#]
            ),
            (
                ["type": "string", "pattern": "^[a-z]+$"], "abc", "ABC",
                [#"spec.x: Invalid value: "ABC": spec.x in body should match '^[a-z]+$'"#]
            ),
            (["type": "string", "maxLength": 3], "abc", "abcd", ["spec.x: Too long: may not be more than 3 bytes"]),
            (
                ["type": "string", "minLength": 2], "ab", "a",
                [#"spec.x: Invalid value: "a": spec.x in body should be at least 2 chars long"#]
            ),
            (
                ["type": "integer", "maximum": 10], 10, 11,
                ["spec.x: Invalid value: 11: spec.x in body should be less than or equal to 10"]
            ),
            (
                ["type": "integer", "maximum": 10, "exclusiveMaximum": true], 9, 10,
                ["spec.x: Invalid value: 10: spec.x in body should be less than 10"]
            ),
            (
                ["type": "integer", "minimum": 1], 1, 0,
                ["spec.x: Invalid value: 0: spec.x in body should be greater than or equal to 1"]
            ),
            (
                ["type": "number", "minimum": .double(0.5), "exclusiveMinimum": true], .double(0.75), .double(0.5),
                ["spec.x: Invalid value: 0.5: spec.x in body should be greater than 0.5"]
            ),
            (
                ["type": "integer", "multipleOf": 3], 9, 10,
                ["spec.x: Invalid value: 10: spec.x in body should be a multiple of 3"]
            ),
            (
                ["type": "number", "multipleOf": .double(0.5)], .double(1.5), .double(1.25),
                ["spec.x: Invalid value: 1.25: spec.x in body should be a multiple of 0.5"]
            ),
            (
                ["type": "array", "items": ["type": "string"], "minItems": 1], ["a"], [],
                ["spec.x: Invalid value: 0: spec.x in body should have at least 1 items"]
            ),
            (
                ["type": "array", "items": ["type": "string"], "maxItems": 1], ["a"], ["a", "b"],
                ["spec.x: Too many: must have at most 1 item"]
            ),
            (
                ["type": "object", "minProperties": 1], ["a": 1], [:],
                ["spec.x: Invalid value: 0: spec.x in body should have at least 1 properties"]
            ),
            (
                ["type": "object", "maxProperties": 1], ["a": 1], ["a": 1, "b": 2],
                ["spec.x: Too many: must have at most 1 property"]
            ),
            (
                ["type": "object", "properties": ["name": ["type": "string"]], "required": ["name"]], ["name": "n"],
                [:],
                ["spec.x.name: Required value"]
            ),
            (
                ["type": "integer", "format": "int32"], 2_147_483_647, 2_147_483_648,
                [#"<nil>: Invalid value: "": Checked value must be of type integer with format int32 in spec.x"#]
            ),
            (
                ["x-kubernetes-int-or-string": true], "50%", true,
                [#"spec.x: Invalid value: "boolean": spec.x in body must be of type integer,string: "boolean""#]
            ),
            (
                ["type": "object", "additionalProperties": ["type": "integer"]], ["a": 1], ["a": "b"],
                [#"spec.x.a: Invalid value: "string": spec.x.a in body must be of type integer: "string""#]
            ),
            (
                ["type": "array", "items": ["type": "object", "properties": ["n": ["type": "integer"]]]], [["n": 1]],
                [["n": 1], ["n": "2"]],
                [#"spec.x[1].n: Invalid value: "string": spec.x[1].n in body must be of type integer: "string""#]
            ),
        ]
        for (index, test) in cases.enumerated() {
            XCTAssertEqual(errors(test.field, test.valid), [], "case \(index) valid")
            XCTAssertEqual(errors(test.field, test.invalid), test.message, "case \(index) invalid")
        }
    }

    func testCompositionReportsUpstreamsUnnamedErrorAndTheBestBranch() {
        let anyOf: JSON = ["type": "integer", "anyOf": [["minimum": 10], ["maximum": 0]]]
        XCTAssertEqual(errors(anyOf, 12), [])
        XCTAssertEqual(
            errors(anyOf, 5),
            [
                #"<nil>: Invalid value: "": "spec.x" must validate at least one schema (anyOf)"#,
                "spec.x: Invalid value: 5: spec.x in body should be greater than or equal to 10",
            ])
        let oneOf: JSON = ["type": "integer", "oneOf": [["minimum": 0], ["maximum": 10]]]
        XCTAssertEqual(errors(oneOf, 20), [])
        XCTAssertEqual(
            errors(oneOf, 5),
            [
                #"<nil>: Invalid value: "": "spec.x" must validate one and only one schema (oneOf). Found 2 valid alternatives"#
            ])
        let allOf: JSON = ["type": "integer", "allOf": [["minimum": 0], ["maximum": 10]]]
        XCTAssertEqual(errors(allOf, 5), [])
        XCTAssertEqual(
            errors(allOf, 11),
            [
                "spec.x: Invalid value: 11: spec.x in body should be less than or equal to 10",
                #"<nil>: Invalid value: "": "spec.x" must validate all the schemas (allOf)"#,
            ])
        let not: JSON = ["type": "string", "not": ["enum": ["forbidden"]]]
        XCTAssertEqual(errors(not, "fine"), [])
        XCTAssertEqual(
            errors(not, "forbidden"), [#"<nil>: Invalid value: "": "spec.x" must not validate the schema (not)"#])
    }

    func testListTypesRefuseDuplicates() {
        let set: JSON = ["type": "array", "x-kubernetes-list-type": "set", "items": ["type": "string"]]
        XCTAssertEqual(errors(set, ["a", "b"]), [])
        XCTAssertEqual(errors(set, ["a", "b", "a", "a"]), [#"spec.x[2]: Duplicate value: "a""#])
        let map: JSON = [
            "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
            "items": [
                "type": "object", "required": ["name"],
                "properties": ["name": ["type": "string"], "v": ["type": "integer"]],
            ],
        ]
        XCTAssertEqual(errors(map, [["name": "a", "v": 1], ["name": "b", "v": 1]]), [])
        XCTAssertEqual(
            errors(map, [["name": "a", "v": 1], ["name": "a", "v": 2]]), [#"spec.x[1]: Duplicate value: {"name":"a"}"#])
    }

    func testEmbeddedResourcesNeedTypeMetaAndValidMetadata() {
        let embedded: JSON = [
            "type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true,
        ]
        XCTAssertEqual(errors(embedded, ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"]]), [])
        XCTAssertEqual(
            errors(embedded, ["metadata": [:]]), ["spec.x.apiVersion: Required value", "spec.x.kind: Required value"])
        XCTAssertEqual(
            errors(embedded, ["apiVersion": "", "kind": "Pod", "metadata": ["name": "a/b"]]),
            [
                #"spec.x.apiVersion: Invalid value: "": must not be empty"#,
                #"spec.x.metadata.name: Invalid value: "a/b": may not contain '/'"#,
            ])
    }

    func testPreserveUnknownFieldsAcceptsAnything() {
        XCTAssertEqual(errors(["x-kubernetes-preserve-unknown-fields": true], ["any": ["thing": [1, "two"]]]), [])
    }

    func testFormats() {
        let cases: [(format: String, valid: String, invalid: String)] = [
            ("uuid", "123e4567-e89b-12d3-a456-426614174000", "not-a-uuid"),
            ("date", "2024-02-29", "2023-02-29"),
            ("date-time", "2024-01-02T03:04:05Z", "2024-01-02 03:04"),
            ("ipv4", "10.0.0.1", "10.0.0.256"),
            ("ipv6", "fe80::1", "fe80:::1"),
            ("cidr", "10.0.0.0/8", "10.0.0.0/33"),
            ("hostname", "example.com", "-bad-.com"),
            ("byte", "aGVsbG8=", "not base64!"),
            ("mac", "01:23:45:67:89:ab", "01:23:45"),
            ("email", "a@example.com", "not an email"),
            ("duration", "1h30m", "soon"),
            ("hexcolor", "#fff", "#ffff"),
            ("bsonobjectid", "507f1f77bcf86cd799439011", "507f"),
        ]
        for test in cases {
            let field: JSON = ["type": "string", "format": .string(test.format)]
            XCTAssertEqual(errors(field, .string(test.valid)), [], test.format)
            XCTAssertEqual(
                errors(field, .string(test.invalid)),
                [
                    "spec.x: Invalid value: \"\(test.invalid)\": spec.x in body must be of type \(test.format): \"\(test.invalid)\""
                ], test.format)
        }
        // Formats upstream does not know are ignored, as it strips them.
        XCTAssertEqual(errors(["type": "string", "format": "k8s-fancy"], "anything"), [])
    }

    func testRootRequiredFieldAndTypeMetaAreValidatedAsUpstream() throws {
        let schema = try StructuralSchema(openAPIV3Schema: [
            "type": "object", "required": ["spec"], "properties": ["spec": ["type": "object"]],
        ])
        XCTAssertEqual(
            schema.validate(["apiVersion": "a/v1", "kind": "K"]).map(\.description), ["spec: Required value"])
    }
}

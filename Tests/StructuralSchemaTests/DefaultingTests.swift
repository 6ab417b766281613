import APIMachinery
import StructuralSchema
import XCTest

final class DefaultingTests: XCTestCase {
    private let schema: JSON = [
        "type": "object",
        "properties": [
            "spec": [
                "type": "object",
                "default": [:],
                "properties": [
                    "replicas": ["type": "integer", "default": 1],
                    "mode": ["type": "string", "default": "fast"],
                    "note": ["type": "string", "nullable": true, "default": "n"],
                    "plain": ["type": "string"],
                    "ports": [
                        "type": "array",
                        "items": ["type": "object", "properties": ["protocol": ["type": "string", "default": "TCP"]]],
                    ],
                    "tags": ["type": "object", "additionalProperties": ["type": "string", "default": "t"]],
                ],
            ]
        ],
    ]

    func testDefaultsFillMissingAndNonNullableNullFieldsRecursively() throws {
        let schema = try StructuralSchema(openAPIV3Schema: schema)
        var object: JSON = [
            "spec": ["mode": nil, "note": nil, "plain": nil, "ports": [[:], ["protocol": "UDP"]], "tags": ["a": nil]]
        ]
        schema.applyDefaults(&object)
        XCTAssertEqual(
            object,
            [
                "spec": [
                    "mode": "fast", "note": nil, "ports": [["protocol": "TCP"], ["protocol": "UDP"]],
                    "tags": ["a": "t"],
                    "replicas": 1,
                ]
            ])
    }

    func testAMissingParentIsDefaultedThenItsChildren() throws {
        let schema = try StructuralSchema(openAPIV3Schema: schema)
        var object: JSON = ["apiVersion": "a/v1", "kind": "K"]
        schema.applyDefaults(&object)
        XCTAssertEqual(object["spec"], ["replicas": 1, "mode": "fast", "note": "n"])
    }
}

import APIMachinery
import StructuralSchema
import XCTest

final class PruningTests: XCTestCase {
    func testUnknownFieldsArePrunedAndReported() throws {
        let schema = try StructuralSchema(openAPIV3Schema: [
            "type": "object",
            "properties": ["spec": ["type": "object", "properties": ["replicas": ["type": "integer"]]]],
        ])
        var object: JSON = [
            "apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w"],
            "spec": ["replicas": 1, "extra": true], "status": [:],
        ]
        XCTAssertEqual(schema.prune(&object), ["spec.extra", "status"])
        XCTAssertEqual(
            object,
            ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w"], "spec": ["replicas": 1]])
    }
}

final class PruningMoreTests: XCTestCase {
    func testPreservedFieldsKeepUnknownsButPruneBelowKnownOnes() throws {
        let schema = try StructuralSchema(openAPIV3Schema: [
            "type": "object",
            "properties": [
                "spec": [
                    "type": "object", "x-kubernetes-preserve-unknown-fields": true,
                    "properties": ["known": ["type": "object", "properties": ["a": ["type": "string"]]]],
                ],
                "list": ["type": "array", "items": ["type": "object", "properties": ["a": ["type": "string"]]]],
                "embedded": [
                    "type": "object", "x-kubernetes-embedded-resource": true,
                    "properties": ["spec": ["type": "object"]],
                ],
            ],
        ])
        var object: JSON = [
            "spec": ["free": 1, "known": ["a": "x", "b": "y"]],
            "list": [["a": "1", "z": 2]],
            "embedded": ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"], "spec": [:], "other": 1],
        ]
        XCTAssertEqual(schema.prune(&object), ["embedded.other", "list[0].z", "spec.known.b"])
        XCTAssertEqual(object["spec"], ["free": 1, "known": ["a": "x"]])
        XCTAssertEqual(object["embedded"]?["metadata"], ["name": "p"])
    }
}

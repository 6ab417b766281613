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

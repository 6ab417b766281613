import APIMachinery
import XCTest

final class PatchTests: XCTestCase {
    func testMergePatch() throws {
        let target = try JSON.parse(#"{"a":"b","c":{"d":"e","f":"g"}}"#)
        let patch = try JSON.parse(#"{"a":"z","c":{"f":null},"n":[1]}"#)
        XCTAssertEqual(MergePatch.apply(patch, to: target), try JSON.parse(#"{"a":"z","c":{"d":"e"},"n":[1]}"#))
    }

    func testJSONPatchOperations() throws {
        let document = try JSON.parse(#"{"a":{"b":[1,2]},"c":"x"}"#)
        let patch = try JSON.parse(
            #"[{"op":"add","path":"/a/b/1","value":9},{"op":"remove","path":"/c"},{"op":"replace","path":"/a/b/0","value":0},{"op":"copy","from":"/a/b","path":"/d"},{"op":"move","from":"/d","path":"/e"},{"op":"test","path":"/e/1","value":9},{"op":"add","path":"/a/b/-","value":3},{"op":"add","path":"/k~1l","value":true}]"#
        )
        XCTAssertEqual(
            try JSONPatch.apply(patch, to: document), try JSON.parse(#"{"a":{"b":[0,9,2,3]},"e":[0,9,2],"k/l":true}"#))
    }

    func testJSONPatchFailures() throws {
        let document = try JSON.parse(#"{"a":1}"#)
        XCTAssertThrowsError(try JSONPatch.apply(try JSON.parse(#"[{"op":"remove","path":"/x"}]"#), to: document))
        XCTAssertThrowsError(
            try JSONPatch.apply(try JSON.parse(#"[{"op":"test","path":"/a","value":2}]"#), to: document))
        XCTAssertThrowsError(try JSONPatch.apply(try JSON.parse(#"{"op":"add"}"#), to: document)) { error in
            XCTAssertEqual((error as? JSONPatch.Failure)?.malformed, true)
        }
        XCTAssertThrowsError(try JSONPatch.apply(try JSON.parse(#"[{"op":"jump","path":"/a"}]"#), to: document))
    }
}

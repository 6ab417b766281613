import APIMachinery
import XCTest

final class SelectorTests: XCTestCase {
    func testLabelSelectorSyntax() throws {
        let selector = try LabelSelector(parsing: "app=web, tier != db,env in (prod, staging),!legacy,team")
        XCTAssertTrue(selector.matches(["app": "web", "env": "prod", "team": "x"]))
        XCTAssertFalse(selector.matches(["app": "web", "env": "prod", "team": "x", "legacy": "1"]))
        XCTAssertFalse(selector.matches(["app": "web", "tier": "db", "env": "prod", "team": "x"]))
        XCTAssertFalse(selector.matches(["app": "web", "env": "dev", "team": "x"]))
        XCTAssertTrue(try LabelSelector(parsing: "a notin (x)").matches([:]))
        XCTAssertTrue(try LabelSelector(parsing: "n>3").matches(["n": "4"]))
        XCTAssertTrue(try LabelSelector(parsing: "").isEverything)
    }

    func testLabelSelectorErrorsAreBadRequests() {
        for text in ["a in b", "=x", "a=(", "a==b==c", "a b", "a in (x", "a=b,"] {
            XCTAssertThrowsError(try LabelSelector(parsing: text), text) { error in
                XCTAssertEqual((error as? APIError)?.code, 400, text)
            }
        }
    }

    func testLabelSelectorFromObject() throws {
        let selector = try LabelSelector(
            object: [
                "matchLabels": ["app": "web"],
                "matchExpressions": [["key": "env", "operator": "In", "values": ["a", "b"]]],
            ])
        XCTAssertTrue(selector.matches(["app": "web", "env": "b"]))
        XCTAssertFalse(selector.matches(["app": "web"]))
        XCTAssertThrowsError(try LabelSelector(object: ["matchExpressions": [["key": "x", "operator": "Foo"]]]))
    }

    func testFieldSelector() throws {
        let selector = try FieldSelector(parsing: "spec.nodeName=n1,status.phase!=Running")
        XCTAssertTrue(selector.matches { ["spec.nodeName": "n1", "status.phase": "Pending"][$0] })
        XCTAssertFalse(selector.matches { ["spec.nodeName": "n1", "status.phase": "Running"][$0] })
        XCTAssertEqual(try FieldSelector(parsing: #"a=x\,y"#).terms.first?.value, "x,y")
        XCTAssertThrowsError(try FieldSelector(parsing: "nonsense"))
    }
}

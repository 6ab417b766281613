import APIMachinery
import XCTest

final class ValidationTests: XCTestCase {
    func testNames() {
        XCTAssertEqual(NameValidation.dns1123Subdomain("my-app.example"), [])
        XCTAssertEqual(NameValidation.dns1123Subdomain("Bad_Name").count, 1)
        XCTAssertEqual(
            NameValidation.dns1123Subdomain(String(repeating: "a", count: 254)).first,
            "must be no more than 253 characters")
        XCTAssertEqual(NameValidation.dns1123Label("a.b").count, 1)
        XCTAssertEqual(NameValidation.dns1035Label("1abc").count, 1)
        XCTAssertEqual(NameValidation.dns1035Label("abc-1"), [])
        XCTAssertEqual(NameValidation.pathSegmentName("a/b"), ["may not contain '/'"])
        XCTAssertEqual(NameValidation.qualifiedName("example.com/My_Name"), [])
        XCTAssertEqual(NameValidation.qualifiedName("-x").count, 1)
        XCTAssertEqual(NameValidation.labelValue(""), [])
        XCTAssertEqual(NameValidation.labelValue("a b").count, 1)
    }

    func testInvalidMessageShapeMatchesUpstream() {
        let kind = GroupVersionKind(group: "", version: "v1", kind: "Pod")
        let one = APIError.invalid(kind: kind, name: "p", errors: [.required("spec.containers")])
        XCTAssertEqual(one.message, "Pod \"p\" is invalid: spec.containers: Required value")
        XCTAssertEqual(one.code, 422)
        let two = APIError.invalid(
            kind: kind, name: "p",
            errors: [.required("spec.containers"), .notSupported("spec.restartPolicy", "X", ["Always", "Never"])])
        XCTAssertEqual(
            two.message,
            "Pod \"p\" is invalid: [spec.containers: Required value, spec.restartPolicy: Unsupported value: \"X\": supported values: \"Always\", \"Never\"]"
        )
        XCTAssertEqual(two.status["details"]?["causes"]?.arrayValue?.count, 2)
        // A named group qualifies the kind, as upstream's GroupKind.String(); details keep kind and group apart.
        let grouped = APIError.invalid(
            kind: GroupVersionKind(group: "apps", version: "v1", kind: "Deployment"), name: "web",
            errors: [.required("spec.selector")])
        XCTAssertEqual(grouped.message, "Deployment.apps \"web\" is invalid: spec.selector: Required value")
        XCTAssertEqual(grouped.status["details"]?["kind"], "Deployment")
        XCTAssertEqual(grouped.status["details"]?["group"], "apps")
    }

    func testStatusBodies() {
        let notFound = APIError.notFound(GroupResource(group: "apps", resource: "deployments"), name: "web")
        XCTAssertEqual(notFound.message, "deployments.apps \"web\" not found")
        XCTAssertEqual(notFound.status["details"]?["group"], "apps")
        XCTAssertEqual(notFound.status["reason"], "NotFound")
        XCTAssertEqual(notFound.status["code"], .int(404))
    }
}

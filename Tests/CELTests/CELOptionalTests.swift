import CEL
import XCTest

final class CELOptionalTests: XCTestCase {
    func testOptionalSyntaxAndLibrary() {
        let object = json(#"{"a": {"b": 1}, "l": [10, 20]}"#)
        assertTable(
            [
                ("self.?a.hasValue()", .value(.bool(true))),
                ("self.?zzz.hasValue()", .value(.bool(false))),
                ("self.?zzz.orValue(5)", .value(.int(5))),
                ("self.?a.?b.value()", .value(.int(1))),
                ("self.?zzz.?b.hasValue()", .value(.bool(false))),
                ("self.?a.b.value()", .value(.int(1))),
                ("self.?a.c", .error("no such key: c")),
                ("self.l[?1].value()", .value(.int(20))),
                ("self.l[?5].hasValue()", .value(.bool(false))),
                ("self[?'a'].hasValue()", .value(.bool(true))),
                ("self.?zzz.value()", .error("optional.none() dereference")),
                ("optional.of(1).value()", .value(.int(1))),
                ("optional.none().hasValue()", .value(.bool(false))),
                ("optional.none().or(optional.of(2)).value()", .value(.int(2))),
                ("optional.of(1).or(optional.of(2)).value()", .value(.int(1))),
                ("optional.ofNonZeroValue('').hasValue()", .value(.bool(false))),
                ("optional.ofNonZeroValue([1]).hasValue()", .value(.bool(true))),
                ("optional.of(1) == optional.of(1.0)", .value(.bool(true))),
                ("optional.none() == optional.none()", .value(.bool(true))),
                ("type(optional.none()) == type(optional.of(1))", .value(.bool(true))),
                ("1.hasValue()", .error("no such overload")),
            ], variables: ["self": object])
    }

    func testOptionalOldSelfTransitionRule() throws {
        // Kubernetes binds oldSelf as an optional for rules with optionalOldSelf: none on create.
        let program = try CELProgram(
            compiling: "!oldSelf.hasValue() || self.x >= oldSelf.value().x", variables: ["self", "oldSelf"])
        XCTAssertEqual(try program.evaluate(["self": json(#"{"x": 1}"#), "oldSelf": .optional(nil)]), .bool(true))
        XCTAssertEqual(
            try program.evaluate(["self": json(#"{"x": 1}"#), "oldSelf": .optional(json(#"{"x": 2}"#))]), .bool(false))
    }

    func testHostBuiltMaps() throws {
        var labels = CELMap()
        XCTAssertTrue(labels.insert(key: .string("app"), value: .string("web")))
        XCTAssertFalse(labels.insert(key: .string("app"), value: .string("db")))
        XCTAssertFalse(labels.insert(key: .double(1.5), value: .null))
        let request = CELValue.object([("operation", .string("CREATE")), ("labels", .map(labels))])
        let program = try CELProgram(compiling: "request.operation == 'CREATE' && request.labels.app == 'web'")
        XCTAssertEqual(try program.evaluate(["request": request]), .bool(true))
        XCTAssertEqual(request.json["labels"]?["app"], "web")
    }
}

import CEL
import XCTest

final class CELMacroTests: XCTestCase {
    func testMacrosOverListsAndMaps() {
        assertTable([
            ("[1, 2, 3].all(x, x > 0)", .value(.bool(true))),
            ("[1, 2, 3].all(x, x > 1)", .value(.bool(false))),
            ("[].all(x, x > 1)", .value(.bool(true))),
            ("[1, 2, 3].exists(x, x == 2)", .value(.bool(true))),
            ("[1, 2, 3].exists(x, x == 5)", .value(.bool(false))),
            ("[1, 2, 3].exists_one(x, x > 2)", .value(.bool(true))),
            ("[1, 2, 3].exists_one(x, x > 1)", .value(.bool(false))),
            ("[1, 2, 3].map(x, x * 2)", .value(.list([.int(2), .int(4), .int(6)]))),
            ("[1, 2, 3].map(x, x > 1, x * 10)", .value(.list([.int(20), .int(30)]))),
            ("[1, 2, 3].filter(x, x % 2 == 1)", .value(.list([.int(1), .int(3)]))),
            ("{'a': 1, 'b': 2}.all(k, k.size() == 1)", .value(.bool(true))),
            ("{'a': 1, 'b': 2}.map(k, k + k)", .value(.list([.string("aa"), .string("bb")]))),
            ("{'a': 1, 'b': 2}.filter(k, k == 'b')", .value(.list([.string("b")]))),
            ("[[1, 2], [3]].all(l, l.all(x, x < 4))", .value(.bool(true))),
            ("[1, 2].exists(x, [3, 4].exists(x, x == 4))", .value(.bool(true))),
            ("[1, 2].map(x, [10].map(y, x + y))", .value(.list([.list([.int(11)]), .list([.int(12)])]))),
            ("1.all(x, true)", .error("no such overload")),
            ("[1, 2].all(x, x)", .error("no such overload")),
            ("[1, 2].map(x, x / 0)", .error("division by zero")),
            ("[1, 2].filter(x, 'a')", .error("no such overload")),
        ])
    }

    func testAllAndExistsAbsorbErrorsLikeLogic() {
        assertTable([
            ("[0, 1].all(x, 1 / x > 5)", .value(.bool(false))),
            ("[1, 0].all(x, 1 / x > 5)", .value(.bool(false))),
            ("[1, 0].all(x, 1 / x > 0)", .error("division by zero")),
            ("[0, 1].exists(x, 1 / x == 1)", .value(.bool(true))),
            ("[0, 2].exists(x, 1 / x == 1)", .error("division by zero")),
            ("[0, 1].exists_one(x, 1 / x == 1)", .error("division by zero")),
        ])
    }

    func testComprehensionVariableShadowsAndDoesNotLeak() {
        assertTable(
            [
                ("[1, 2].all(self, self > 0) && self == 'outer'", .value(.bool(true))),
                ("[1].map(x, [2].map(x, x))", .value(.list([.list([.int(2)])]))),
            ], variables: ["self": .string("outer")])
    }
}

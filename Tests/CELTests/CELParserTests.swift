import CEL
import XCTest

final class CELParserTests: XCTestCase {
    func testLiterals() {
        assertTable([
            ("42", .value(.int(42))),
            ("-42", .value(.int(-42))),
            ("0x1F", .value(.int(31))),
            ("-9223372036854775808", .value(.int(.min))),
            ("9223372036854775807", .value(.int(.max))),
            ("1u", .value(.uint(1))),
            ("0xFFu", .value(.uint(255))),
            ("18446744073709551615u", .value(.uint(.max))),
            ("1.5", .value(.double(1.5))),
            (".5", .value(.double(0.5))),
            ("1e3", .value(.double(1000))),
            ("-2.5e-1", .value(.double(-0.25))),
            ("true", .value(.bool(true))),
            ("false", .value(.bool(false))),
            ("null", .value(.null)),
            ("'single'", .value(.string("single"))),
            ("\"double\"", .value(.string("double"))),
            ("'''tri\nple'''", .value(.string("tri\nple"))),
            ("\"\"\"has \"quotes\" \"\"\"", .value(.string("has \"quotes\" "))),
            (#"'esc\n\t\\\'\"\x41\u00e9\U0001F600\101'"#, .value(.string("esc\n\t\\'\"Aé😀A"))),
            (#"r'raw\n'"#, .value(.string(#"raw\n"#))),
            (#"R"C:\dir""#, .value(.string(#"C:\dir"#))),
            (#"b'ab\x00\377'"#, .value(.bytes([97, 98, 0, 255]))),
            ("b'é'", .value(.bytes([0xC3, 0xA9]))),
            ("[1, 'a', [true]]", .value(.list([.int(1), .string("a"), .list([.bool(true)])]))),
            ("[1, 2,]", .value(.list([.int(1), .int(2)]))),
            ("{'a': 1}['a']", .value(.int(1))),
            ("{1: 'x', true: 'y'}[true]", .value(.string("y"))),
            ("// comment\n 1 // trailing", .value(.int(1))),
            ("type(1) == int", .value(.bool(true))),
            ("type(int) == type", .value(.bool(true))),
        ])
    }

    func testPrecedenceAndAssociativity() {
        assertTable([
            ("1 + 2 * 3", .value(.int(7))),
            ("(1 + 2) * 3", .value(.int(9))),
            ("10 - 4 - 3", .value(.int(3))),
            ("100 / 10 / 5", .value(.int(2))),
            ("7 % 4 * 2", .value(.int(6))),
            ("-2 * 3", .value(.int(-6))),
            ("--2", .value(.int(2))),
            ("!!true", .value(.bool(true))),
            ("!false && true", .value(.bool(true))),
            ("true || false && false", .value(.bool(true))),
            ("1 < 2 == true", .value(.bool(true))),
            ("1 + 1 == 2 ? 'yes' : 'no'", .value(.string("yes"))),
            ("false ? 1 : true ? 2 : 3", .value(.int(2))),
            ("2 in [1, 2] && 'a' in {'a': 1}", .value(.bool(true))),
            ("[[1, 2], [3]][0][1]", .value(.int(2))),
            ("{'a': {'b': 'c'}}.a.b", .value(.string("c"))),
            ("'abc'.size() + size('de')", .value(.int(5))),
        ])
    }

    func testSyntaxErrorsNamePosition() throws {
        let cases: [(String, String)] = [
            ("1 +", "ERROR: <input>:1:4: Syntax error: mismatched input '<EOF>' expecting"),
            ("(1", "ERROR: <input>:1:3: Syntax error: mismatched input '<EOF>' expecting ')'"),
            ("1 2", "ERROR: <input>:1:3: Syntax error: extraneous input '2' expecting <EOF>"),
            ("a #", "ERROR: <input>:1:3: Syntax error: token recognition error at: '#'"),
            ("'open", "ERROR: <input>:1:1: Syntax error: token recognition error at: ''open'"),
            ("1 ?\n 2", "ERROR: <input>:2:3: Syntax error: mismatched input '<EOF>' expecting ':'"),
            ("9223372036854775808", "ERROR: <input>:1:1: invalid int literal"),
            ("18446744073709551616u", "ERROR: <input>:1:1: invalid uint literal"),
            (#"'\q'"#, "ERROR: <input>:1:2: Syntax error: invalid escape sequence"),
            ("while", "ERROR: <input>:1:1: reserved identifier: while"),
            ("foo(1)", "ERROR: <input>:1:1: undeclared reference to 'foo' (in container '')"),
            ("[1].all(1, true)", "ERROR: <input>:1:5: argument must be a simple name"),
            ("has(a)", "ERROR: <input>:1:1: invalid argument to has() macro"),
        ]
        for (expression, prefix) in cases {
            XCTAssertThrowsError(try CELProgram(compiling: expression), expression) { error in
                guard let error = error as? CELError else { return XCTFail("\(error)") }
                XCTAssertEqual(error.kind, .compile, expression)
                XCTAssertTrue(error.message.hasPrefix(prefix), "\(expression): \(error.message)")
            }
        }
    }

    func testErrorShowsTheLineWithACaret() {
        XCTAssertThrowsError(try CELProgram(compiling: "self.a + ")) { error in
            XCTAssertEqual(
                (error as? CELError)?.message.split(separator: "\n").dropFirst().joined(separator: "\n"),
                " | self.a + \n | .........^")
        }
    }

    func testDeclaredVariablesAreChecked() throws {
        XCTAssertNoThrow(try CELProgram(compiling: "self.all(x, x > oldSelf)", variables: ["self", "oldSelf"]))
        XCTAssertNoThrow(try CELProgram(compiling: "type(self) == int", variables: ["self"]))
        XCTAssertThrowsError(try CELProgram(compiling: "self.x == slef.x", variables: ["self"])) { error in
            XCTAssertTrue(
                (error as? CELError)?.message.hasPrefix(
                    "ERROR: <input>:1:11: undeclared reference to 'slef' (in container '')") == true)
        }
        XCTAssertThrowsError(try CELProgram(compiling: "[1].all(x, y > 0)", variables: ["self"]))
    }

    func testDeepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "(", count: 300) + "1" + String(repeating: ")", count: 300)
        XCTAssertThrowsError(try CELProgram(compiling: deep)) { error in
            XCTAssertTrue((error as? CELError)?.message.contains("expression recursion limit exceeded: 250") == true)
        }
        let long = String(repeating: "1+", count: 60_000) + "1"
        XCTAssertThrowsError(try CELProgram(compiling: long)) { error in
            XCTAssertEqual(
                (error as? CELError)?.message, "expression code point size exceeds limit: size: 120001, limit 100000")
        }
    }
}

import APIMachinery
import CEL
import XCTest

final class CELOperatorTests: XCTestCase {
    func testArithmetic() {
        assertTable([
            ("2 + 3", .value(.int(5))),
            ("2u + 3u", .value(.uint(5))),
            ("1.5 + 1.0", .value(.double(2.5))),
            ("'ab' + 'cd'", .value(.string("abcd"))),
            ("b'a' + b'b'", .value(.bytes([97, 98]))),
            ("[1] + [2, 3]", .value(.list([.int(1), .int(2), .int(3)]))),
            ("5 - 7", .value(.int(-2))),
            ("7u - 5u", .value(.uint(2))),
            ("6 * 7", .value(.int(42))),
            ("-7 / 2", .value(.int(-3))),
            ("-7 % 3", .value(.int(-1))),
            ("7u / 2u", .value(.uint(3))),
            ("7u % 4u", .value(.uint(3))),
            ("1.0 / 0.0", .value(.double(.infinity))),
            ("-(3)", .value(.int(-3))),
            ("-(1.5)", .value(.double(-1.5))),
            ("1 + 1u", .error("no such overload")),
            ("1 + 1.0", .error("no such overload")),
            ("'a' + 1", .error("no such overload")),
            ("1.5 % 1.0", .error("no such overload")),
            ("-'a'", .error("no such overload")),
            ("!1", .error("no such overload")),
        ])
    }

    func testOverflowAndDivisionErrors() {
        assertTable([
            ("9223372036854775807 + 1", .error("integer overflow")),
            ("-9223372036854775808 - 1", .error("integer overflow")),
            ("9223372036854775807 * 2", .error("integer overflow")),
            ("-9223372036854775808 / -1", .error("integer overflow")),
            ("-9223372036854775808 % -1", .error("integer overflow")),
            ("-(-9223372036854775808)", .error("integer overflow")),
            ("18446744073709551615u + 1u", .error("unsigned integer overflow")),
            ("0u - 1u", .error("unsigned integer overflow")),
            ("18446744073709551615u * 2u", .error("unsigned integer overflow")),
            ("1 / 0", .error("division by zero")),
            ("1u / 0u", .error("division by zero")),
            ("1 % 0", .error("modulus by zero")),
            ("1u % 0u", .error("modulus by zero")),
        ])
    }

    func testHeterogeneousEqualityAndOrdering() {
        assertTable([
            ("1 == 1.0", .value(.bool(true))),
            ("1 == 1u", .value(.bool(true))),
            ("1u == 1.0", .value(.bool(true))),
            ("-1 == 18446744073709551615u", .value(.bool(false))),
            ("1 == 1.5", .value(.bool(false))),
            ("1 != 'a'", .value(.bool(true))),
            ("1 == 'a'", .value(.bool(false))),
            ("null == null", .value(.bool(true))),
            ("null == 0", .value(.bool(false))),
            ("[1, 2] == [1.0, 2u]", .value(.bool(true))),
            ("[1] == [1, 2]", .value(.bool(false))),
            ("{'a': 1, 'b': 2} == {'b': 2, 'a': 1.0}", .value(.bool(true))),
            ("{'a': 1} == {'a': 2}", .value(.bool(false))),
            ("0.0/0.0 == 0.0/0.0", .value(.bool(false))),
            ("b'a' == b'a'", .value(.bool(true))),
            ("1 < 1.5", .value(.bool(true))),
            ("2u > -1", .value(.bool(true))),
            ("9223372036854775807 < 18446744073709551615u", .value(.bool(true))),
            ("1 <= 1u", .value(.bool(true))),
            ("2.0 >= 3", .value(.bool(false))),
            ("'abc' < 'abd'", .value(.bool(true))),
            ("'Z' < 'a'", .value(.bool(true))),
            ("'é' > 'z'", .value(.bool(true))),
            ("b'\\x01' < b'\\x02'", .value(.bool(true))),
            ("false < true", .value(.bool(true))),
            ("1 < 'a'", .error("no such overload")),
            ("[1] < [2]", .error("no such overload")),
            ("null < null", .error("no such overload")),
        ])
    }

    func testMembershipAndIndexing() {
        assertTable([
            ("2 in [1, 2, 3]", .value(.bool(true))),
            ("2.0 in [1, 2]", .value(.bool(true))),
            ("4 in [1, 2, 3]", .value(.bool(false))),
            ("'a' in {'a': 1}", .value(.bool(true))),
            ("1u in {1: 'x'}", .value(.bool(true))),
            ("'b' in {'a': 1}", .value(.bool(false))),
            ("1 in 'abc'", .error("no such overload")),
            ("[1, 2][1]", .value(.int(2))),
            ("[1, 2][1u]", .value(.int(2))),
            ("[1, 2][1.0]", .value(.int(2))),
            ("[1, 2][2]", .error("index '2' out of range in list size '2'")),
            ("[1, 2][-1]", .error("index '-1' out of range in list size '2'")),
            ("[1, 2][1.5]", .error("unsupported index value 1.5 in list")),
            ("[1, 2]['a']", .error("unsupported index type 'string' in list")),
            ("{'a': 1}['b']", .error("no such key: b")),
            ("{'a': 1}.b", .error("no such key: b")),
            ("{1: 'one'}[1.0]", .value(.string("one"))),
            ("{1: 'one'}[1u]", .value(.string("one"))),
            ("{'a': 1, 'a': 2}", .error("Failed with repeated key")),
            ("{1.5: 1}", .error("unsupported key type: double")),
            ("1[0]", .error("no such overload")),
        ])
    }

    func testLogicAbsorbsErrorsCommutatively() {
        assertTable([
            ("false && 1 / 0 == 1", .value(.bool(false))),
            ("1 / 0 == 1 && false", .value(.bool(false))),
            ("true || {'a': 1}.b", .value(.bool(true))),
            ("{'a': 1}.b || true", .value(.bool(true))),
            ("true && 1 / 0 == 1", .error("division by zero")),
            ("1 / 0 == 1 || false", .error("division by zero")),
            ("{}.a && {}.b", .error("no such key: a")),
            ("1 && false", .value(.bool(false))),
            ("1 && true", .error("no such overload")),
            ("'a' || true", .value(.bool(true))),
            ("true && 'a'", .error("no such overload")),
            ("1 / 0 == 1 ? 1 : 2", .error("division by zero")),
            ("'x' ? 1 : 2", .error("no such overload")),
            ("true ? 1 : 1 / 0", .value(.int(1))),
            ("false ? 1 / 0 : 2", .value(.int(2))),
        ])
    }

    func testVariablesFromJSON() {
        let object = json(#"{"a": 1, "b": 2.5, "s": "x", "n": null, "l": [1, 2], "m": {"k": true}}"#)
        assertTable(
            [
                ("self.a + 1", .value(.int(2))),
                ("self.b", .value(.double(2.5))),
                ("self.n == null", .value(.bool(true))),
                ("self.l[1]", .value(.int(2))),
                ("self.m.k", .value(.bool(true))),
                ("self.missing", .error("no such key: missing")),
                ("other", .error("no such attribute(s): other")),
                ("has(self.a)", .value(.bool(true))),
                ("has(self.zzz)", .value(.bool(false))),
                ("has(self.m.k)", .value(.bool(true))),
                ("has(self.zzz.k)", .error("no such key: zzz")),
                ("has(self.a.b)", .error("invalid type for field selection.")),
            ], variables: ["self": object])
        XCTAssertEqual(
            object.json, try JSON.parse(#"{"a": 1, "b": 2.5, "s": "x", "n": null, "l": [1, 2], "m": {"k": true}}"#))
    }
}

import CEL
import XCTest

final class CELStringTests: XCTestCase {
    func testStandardStringFunctions() {
        assertTable([
            ("'héllo'.size()", .value(.int(5))),
            ("size(b'h\\xc3\\xa9')", .value(.int(3))),
            ("'hello'.contains('ell')", .value(.bool(true))),
            ("'hello'.contains('')", .value(.bool(true))),
            ("'hello'.contains('xyz')", .value(.bool(false))),
            ("'hello'.startsWith('he')", .value(.bool(true))),
            ("'hello'.endsWith('lo')", .value(.bool(true))),
            ("'hello'.endsWith('hello!')", .value(.bool(false))),
            ("'abc123'.matches('^[a-z]+[0-9]+$')", .value(.bool(true))),
            ("'xabc'.matches('abc')", .value(.bool(true))),
            ("matches('abc', '^b')", .value(.bool(false))),
            ("'a'.matches('(')", .error("error parsing regexp: invalid or unsupported Perl syntax: `(`")),
            ("'ab'.matches('(?P<first>a)b')", .value(.bool(true))),
            ("1.contains('a')", .error("no such overload")),
            ("'a'.contains(1)", .error("no such overload")),
        ])
    }

    func testKubernetesStringLibrary() {
        assertTable([
            ("'TacoCat'.lowerAscii()", .value(.string("tacocat"))),
            ("'TacoCÆt'.upperAscii()", .value(.string("TACOCÆT"))),
            ("'  \\t trim me \\n'.trim()", .value(.string("trim me"))),
            ("'a,b,c'.split(',')", .value(.list([.string("a"), .string("b"), .string("c")]))),
            ("'a,b,c'.split(',', 2)", .value(.list([.string("a"), .string("b,c")]))),
            ("'a,b,c'.split(',', 0)", .value(.list([]))),
            ("'abc'.split('')", .value(.list([.string("a"), .string("b"), .string("c")]))),
            ("['a', 'b'].join()", .value(.string("ab"))),
            ("['a', 'b'].join('-')", .value(.string("a-b"))),
            ("[1].join()", .error("no such overload")),
            ("'banana'.replace('a', 'o')", .value(.string("bonono"))),
            ("'banana'.replace('a', 'o', 2)", .value(.string("bonona"))),
            ("'ab'.replace('', '-')", .value(.string("-a-b-"))),
            ("'tacocat'.substring(4)", .value(.string("cat"))),
            ("'tacocat'.substring(0, 4)", .value(.string("taco"))),
            ("'héllo'.substring(1, 2)", .value(.string("é"))),
            ("'abc'.substring(4)", .error("index out of range: 4")),
            ("'abc'.substring(2, 1)", .error("invalid substring range. start: 2, end: 1")),
            ("'hello'.charAt(1)", .value(.string("e"))),
            ("'hello'.charAt(5)", .value(.string(""))),
            ("'hello'.charAt(6)", .error("index out of range: 6")),
            ("'hello mellow'.indexOf('ello')", .value(.int(1))),
            ("'hello mellow'.indexOf('ello', 2)", .value(.int(7))),
            ("'hello mellow'.indexOf('jello')", .value(.int(-1))),
            ("'hello'.indexOf('', 3)", .value(.int(3))),
            ("'hello'.indexOf('l', 9)", .error("index out of range: 9")),
            ("'hello mellow'.lastIndexOf('ello')", .value(.int(7))),
            ("'hello mellow'.lastIndexOf('ello', 6)", .value(.int(1))),
            ("'hello'.lastIndexOf('')", .value(.int(5))),
            ("'héllo wörld'.indexOf('ö')", .value(.int(7))),
        ])
    }

    func testRegexLibrary() {
        assertTable([
            ("'abc 123 def 456'.find('[0-9]+')", .value(.string("123"))),
            ("'abc'.find('[0-9]+')", .value(.string(""))),
            ("'abc 123 def 456'.findAll('[0-9]+')", .value(.list([.string("123"), .string("456")]))),
            ("'1 2 3'.findAll('[0-9]', 2)", .value(.list([.string("1"), .string("2")]))),
            ("'1 2 3'.findAll('[0-9]', 0)", .value(.list([]))),
        ])
    }
}

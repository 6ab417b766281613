import APIMachinery
import CEL
import XCTest

final class CELLibraryTests: XCTestCase {
    func testKubernetesListLibrary() {
        assertTable([
            ("[1, 2, 2, 3].isSorted()", .value(.bool(true))),
            ("[3, 1].isSorted()", .value(.bool(false))),
            ("['a', 'b'].isSorted()", .value(.bool(true))),
            ("[].isSorted()", .value(.bool(true))),
            ("[1, 2, 3].sum()", .value(.int(6))),
            ("[1.5, 2.5].sum()", .value(.double(4))),
            ("[1u, 2u].sum()", .value(.uint(3))),
            ("[].sum()", .value(.int(0))),
            ("[9223372036854775807, 1].sum()", .error("integer overflow")),
            ("['a'].sum()", .error("no such overload")),
            ("[3, 1, 2].min()", .value(.int(1))),
            ("[3, 1, 2].max()", .value(.int(3))),
            ("['b', 'a'].min()", .value(.string("a"))),
            ("[].min()", .error("min called on empty list")),
            ("[].max()", .error("max called on empty list")),
            ("[1, 'a'].max()", .error("no such overload")),
            ("[1, 2, 1].indexOf(1)", .value(.int(0))),
            ("[1, 2, 1].lastIndexOf(1)", .value(.int(2))),
            ("[1, 2].indexOf(3)", .value(.int(-1))),
            ("[1, 2].indexOf(2.0)", .value(.int(1))),
        ])
    }

    func testConversions() {
        assertTable([
            ("int(1u)", .value(.int(1))),
            ("int(2.9)", .value(.int(2))),
            ("int(-2.9)", .value(.int(-2))),
            ("int('-42')", .value(.int(-42))),
            ("int('4x')", .error("strconv.ParseInt: parsing \"4x\": invalid syntax")),
            (
                "int('99999999999999999999')",
                .error("strconv.ParseInt: parsing \"99999999999999999999\": value out of range")
            ),
            ("int(18446744073709551615u)", .error("integer overflow")),
            ("int(1e19)", .error("integer overflow")),
            ("int(timestamp('1970-01-01T00:01:00Z'))", .value(.int(60))),
            ("uint(1)", .value(.uint(1))),
            ("uint(-1)", .error("unsigned integer overflow")),
            ("uint(2.5)", .value(.uint(2))),
            ("uint('7')", .value(.uint(7))),
            ("double(1)", .value(.double(1))),
            ("double(2u)", .value(.double(2))),
            ("double('1.5')", .value(.double(1.5))),
            ("double('NaN') != double('NaN')", .value(.bool(true))),
            ("double('x')", .error("strconv.ParseFloat: parsing \"x\": invalid syntax")),
            ("string(1)", .value(.string("1"))),
            ("string(1u)", .value(.string("1"))),
            ("string(1.5)", .value(.string("1.5"))),
            ("string(1.0)", .value(.string("1"))),
            ("string(1000000.0)", .value(.string("1e+06"))),
            ("string(123456.0)", .value(.string("123456"))),
            ("string(0.00001)", .value(.string("1e-05"))),
            ("string(0.0001)", .value(.string("0.0001"))),
            ("string(true)", .value(.string("true"))),
            ("string(b'abc')", .value(.string("abc"))),
            ("string(b'\\xff')", .error("invalid UTF-8 in bytes, cannot convert to string")),
            ("bool('true')", .value(.bool(true))),
            ("bool('F')", .value(.bool(false))),
            ("bool('yes')", .error("type conversion error from 'string' to 'bool'")),
            ("bytes('é')", .value(.bytes([0xC3, 0xA9]))),
            ("type(1u) == uint", .value(.bool(true))),
            ("type('a') == string && type([]) == list && type({}) == map", .value(.bool(true))),
            ("type(null) == null_type && type(1.0) == double && type(true) == bool", .value(.bool(true))),
            ("type(duration('1s')) == google.protobuf.Duration", .value(.bool(true))),
            ("type(timestamp(0)) == google.protobuf.Timestamp", .value(.bool(true))),
            ("dyn(1) == 1", .value(.bool(true))),
            ("int([])", .error("no such overload")),
        ])
    }

    func testDurationsAndTimestamps() {
        assertTable([
            ("duration('1h30m') == duration('90m')", .value(.bool(true))),
            ("duration('1.5s').getMilliseconds()", .value(.int(1500))),
            ("duration('-2h').getHours()", .value(.int(-2))),
            ("duration('3m').getSeconds()", .value(.int(180))),
            ("string(duration('1m1.5s'))", .value(.string("61.5s"))),
            ("duration('1h') + duration('1s') > duration('1h')", .value(.bool(true))),
            ("duration('5x')", .error("time: unknown unit \"x\" in duration \"5x\"")),
            ("duration('5')", .error("time: missing unit in duration \"5\"")),
            ("duration('')", .error("time: invalid duration \"\"")),
            ("timestamp('2023-03-04T05:06:07Z').getFullYear()", .value(.int(2023))),
            ("timestamp('2023-03-04T05:06:07Z').getMonth()", .value(.int(2))),
            ("timestamp('2023-03-04T05:06:07Z').getDate()", .value(.int(4))),
            ("timestamp('2023-03-04T05:06:07Z').getDayOfMonth()", .value(.int(3))),
            ("timestamp('2023-03-04T05:06:07Z').getDayOfWeek()", .value(.int(6))),
            ("timestamp('2023-03-04T05:06:07Z').getDayOfYear()", .value(.int(62))),
            ("timestamp('2023-03-04T05:06:07.25Z').getMilliseconds()", .value(.int(250))),
            ("timestamp('2023-03-04T05:06:07Z').getHours('+02:30')", .value(.int(7))),
            ("timestamp('2023-03-04T05:06:07Z').getMinutes('+02:30')", .value(.int(36))),
            ("timestamp('2023-07-01T12:00:00Z').getHours('America/New_York')", .value(.int(8))),
            ("timestamp('2023-03-04T05:06:07+01:00') == timestamp('2023-03-04T04:06:07Z')", .value(.bool(true))),
            ("string(timestamp('2023-03-04T05:06:07.120Z'))", .value(.string("2023-03-04T05:06:07.12Z"))),
            ("string(timestamp('2023-03-04T05:06:07Z') + duration('24h'))", .value(.string("2023-03-05T05:06:07Z"))),
            (
                "timestamp('2023-03-05T00:00:00Z') - timestamp('2023-03-04T00:00:00Z') == duration('24h')",
                .value(.bool(true))
            ),
            (
                "timestamp('2023-03-04T00:00:00Z') - duration('1s') < timestamp('2023-03-04T00:00:00Z')",
                .value(.bool(true))
            ),
            ("timestamp('2023-02-29T00:00:00Z')", .error("cannot parse 2023-02-29T00:00:00Z as a timestamp")),
            ("timestamp('9999-12-31T23:59:59Z') + duration('1s')", .error("timestamp overflow")),
            ("timestamp(0) == timestamp('1970-01-01T00:00:00Z')", .value(.bool(true))),
        ])
    }

    func testQuantityLibrary() {
        assertTable([
            ("quantity('1Gi') == quantity('1073741824')", .value(.bool(true))),
            ("quantity('500m').isLessThan(quantity('1'))", .value(.bool(true))),
            ("quantity('2').isGreaterThan(quantity('1500m'))", .value(.bool(true))),
            ("quantity('1k').compareTo(quantity('1000'))", .value(.int(0))),
            ("quantity('1').compareTo(quantity('2'))", .value(.int(-1))),
            ("quantity('1.5').add(quantity('500m')) == quantity('2')", .value(.bool(true))),
            ("quantity('1').add(2) == quantity('3')", .value(.bool(true))),
            ("quantity('1').sub(quantity('250m')) == quantity('750m')", .value(.bool(true))),
            ("quantity('10Ki').asInteger()", .value(.int(10240))),
            ("quantity('1500m').asInteger()", .error("cannot convert value to integer")),
            ("quantity('1500m').isInteger()", .value(.bool(false))),
            ("quantity('2').isInteger()", .value(.bool(true))),
            ("quantity('1500m').asApproximateFloat()", .value(.double(1.5))),
            ("quantity('-3').sign()", .value(.int(-1))),
            ("isQuantity('1.3M')", .value(.bool(true))),
            ("isQuantity('one')", .value(.bool(false))),
            ("string(quantity('1.50Gi'))", .value(.string("1536Mi"))),
            (
                "quantity('one')",
                .error("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
            ),
            ("quantity('1') < quantity('2')", .error("no such overload")),
        ])
    }
}

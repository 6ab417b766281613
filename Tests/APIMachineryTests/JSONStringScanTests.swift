import APIMachinery
import Foundation
import TestSupport
import XCTest

/// The word-at-a-time string scans of the parser and the encoder against byte-at-a-time references, on strings
/// whose special bytes fall at every offset of a word.
final class JSONStringScanTests: XCTestCase {
    /// The alphabet of random strings: every byte class the scans tell apart, and multi-byte text around them.
    private static let pieces: [String] = [
        "a", "Z", "0", " ", "\"", "\\", "<", ">", "&", "\n", "\r", "\t", "\u{1}", "\u{8}", "\u{C}", "\u{1F}", "\u{7F}",
        "é", "€", "\u{2027}", "\u{2028}", "\u{2029}", "\u{202A}", "😀", "/", "u", "abcdefgh",
    ]

    private func randomString(_ random: inout SeededRandom) -> String {
        let count = Int.random(in: 0..<40, using: &random)
        return (0..<count).map { _ in Self.pieces.randomElement(using: &random) ?? "" }.joined()
    }

    func testEncodedStringsMatchGosEscapingByteForByte() {
        var random = SeededRandom(seed: 0x6A73_6F6E)
        for _ in 0..<20_000 {
            let string = randomString(&random)
            var out: [UInt8] = []
            JSON.encodeString(string, into: &out)
            XCTAssertEqual(out, Self.referenceEncoding(string), string.debugDescription)
        }
    }

    func testEncodingEscapesLineAndParagraphSeparatorsAsGoDoes() {
        XCTAssertEqual(JSON.string("a\u{2028}b\u{2029}").jsonString, #""a\u2028b\u2029""#)
        XCTAssertEqual(JSON.string("\u{2027}\u{202A}€").jsonString, "\"\u{2027}\u{202A}€\"")
    }

    func testParsedStringsRoundTripAtEveryOffset() throws {
        var random = SeededRandom(seed: 0x7061_7273)
        for _ in 0..<20_000 {
            let string = randomString(&random)
            let document: JSON = ["key": .string(string), "list": [.string(string), 1]]
            XCTAssertEqual(try JSON.parse(document.encoded()), document, string.debugDescription)
            // Escaped with the shortest forms too, which the encoder never writes.
            let escaped = "\"" + Self.shortEscapes(string) + "\""
            XCTAssertEqual(try JSON.parse(escaped), .string(string), escaped)
        }
    }

    func testControlBytesInStringsAreRejectedWherever() {
        for offset in 0..<20 {
            let text = "\"" + String(repeating: "x", count: offset) + "\u{1}yz\""
            XCTAssertThrowsError(try JSON.parse(text)) { error in
                XCTAssertEqual((error as? JSONParseError)?.message, "invalid character '\\x1' in string literal")
                XCTAssertEqual((error as? JSONParseError)?.offset, offset + 1)
            }
            XCTAssertThrowsError(try JSON.parse("\"" + String(repeating: "x", count: offset))) { error in
                XCTAssertEqual((error as? JSONParseError)?.message, "unexpected end of JSON input")
            }
        }
    }

    func testDuplicateKeysKeepTheFirstPlaceAndTheLastValue() throws {
        let value = try JSON.parse(#"{"ab":1,"b":2,"ab":3,"c":{"x":1,"x":[2]}}"#)
        XCTAssertEqual(value.objectValue?.keys, ["ab", "b", "c"])
        XCTAssertEqual(value["ab"], .int(3))
        XCTAssertEqual(value[path: "c", "x"], [2])
    }

    func testNumbersKeepTheirExactValues() throws {
        let text =
            #"[0,-0,7,-12,999999999999999999,-999999999999999999,9223372036854775807,-9223372036854775808,"#
            + #"9223372036854775808,1.5,-2e3,1E-2]"#
        XCTAssertEqual(
            try JSON.parse(text),
            [
                0, 0, 7, -12, .int(999_999_999_999_999_999), .int(-999_999_999_999_999_999), .int(Int64.max),
                .int(Int64.min), .double(9_223_372_036_854_775_808), .double(1.5), .double(-2000), .double(0.01),
            ])
    }

    func testASkippedMemberIsLeftOutAndTheRestKept() throws {
        let text = #"""
            {"type":"MODIFIED","object":{"kind":"Pod","metadata":{"name":"p","managedFields":[{"manager":"m",
            "fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:a\"}]":{}}}}}],"uid":"u"},"managedFields":1},
            "managedFields":[2]}
            """#
        let path = ["object", "metadata", "managedFields"]
        let value = try JSON.parse(Array(text.utf8), skipping: path)
        var expected = try JSON.parse(text)
        expected.set(path, to: nil)
        XCTAssertEqual(value, expected)
        XCTAssertEqual(value[path: "object", "metadata"]?.objectValue?.keys, ["name", "uid"])
        XCTAssertEqual(value[path: "object", "managedFields"], 1)
        XCTAssertEqual(value["managedFields"], [2])
        XCTAssertEqual(try JSON.parse(Array(#"{"a":{"b":"x"}}"#.utf8), skipping: ["a", "b"]), ["a": [:]])
        XCTAssertEqual(try JSON.parse(Array(#"{"a":[{"b":1}]}"#.utf8), skipping: ["a", "b"]), ["a": [["b": 1]]])
    }

    func testASkippedMemberMustStillEnd() {
        for text in [#"{"a":[{"b":"x]}"#, #"{"a":{"#, #"{"a":"x"#, #"{"a":[1,2"#, #"{"a":tru}"#] {
            XCTAssertThrowsError(try JSON.parse(Array(text.utf8), skipping: ["a"]), text)
        }
        let deep = #"{"a":"# + String(repeating: "[", count: 100_000)
        XCTAssertThrowsError(try JSON.parse(Array(deep.utf8), skipping: ["a"]))
    }

    func testParsingFromASliceOrAnotherCollectionGivesTheSameValue() throws {
        let bytes = Array(#"xx{"a":[1,"b\n",{"c":null}]}yy"#.utf8)
        let slice = bytes[2..<(bytes.count - 2)]
        XCTAssertEqual(try JSON.parse(slice), try JSON.parse(Array(slice)))
        XCTAssertEqual(try JSON.parse(Data(slice)), try JSON.parse(Array(slice)))
    }

    /// Go's escaping, one byte at a time: what `encodeString` must write.
    private static func referenceEncoding(_ string: String) -> [UInt8] {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += Array(#"\""#.utf8)
            case "\\": out += Array(#"\\"#.utf8)
            case "\n": out += Array(#"\n"#.utf8)
            case "\r": out += Array(#"\r"#.utf8)
            case "\t": out += Array(#"\t"#.utf8)
            case "\u{2028}": out += Array(#"\u2028"#.utf8)
            case "\u{2029}": out += Array(#"\u2029"#.utf8)
            case "<", ">", "&", "\u{0}"..."\u{1F}":
                let value = Int(scalar.value)
                out += Array(#"\u00"#.utf8) + [hex[value >> 4], hex[value & 0xF]]
            default: out += Array(String(scalar).utf8)
            }
        }
        return out + [UInt8(ascii: "\"")]
    }

    /// `string` as a JSON string body with the short escapes and `\/`, which only other encoders write.
    private static func shortEscapes(_ string: String) -> String {
        var out = ""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += #"\""#
            case "\\": out += #"\\"#
            case "/": out += #"\/"#
            case "\u{8}": out += #"\b"#
            case "\u{C}": out += #"\f"#
            case "\n": out += #"\n"#
            case "\r": out += #"\r"#
            case "\t": out += #"\t"#
            case "😀": out += #"\ud83d\ude00"#
            case "\u{0}"..."\u{1F}": out += String(format: #"\u%04x"#, scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

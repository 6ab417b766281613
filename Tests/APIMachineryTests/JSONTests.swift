import APIMachinery
import XCTest

final class JSONTests: XCTestCase {
    func testParseAndEncodeKeepOrderAndIntegers() throws {
        let text = #"{"z":1,"a":[true,false,null],"m":{"x":-9007199254740993,"y":1.5},"s":"q\"\\\n\u00e9\ud83d\ude00"}"#
        let value = try JSON.parse(text)
        XCTAssertEqual(value["z"], .int(1))
        XCTAssertEqual(value["m"]?["x"], .int(-9_007_199_254_740_993))
        XCTAssertEqual(value["m"]?["y"], .double(1.5))
        XCTAssertEqual(value["s"]?.stringValue, "q\"\\\né😀")
        XCTAssertEqual(value.objectValue?.keys, ["z", "a", "m", "s"])
        XCTAssertEqual(try JSON.parse(value.jsonString), value)
    }

    func testEncodingEscapesLikeGo() {
        XCTAssertEqual(JSON.string("<a&b>\u{1}").jsonString, #""\u003ca\u0026b\u003e\u0001""#)
        XCTAssertEqual(JSON.double(3.0).jsonString, "3")
    }

    func testMalformedDocumentsGiveGoStyleMessages() {
        let cases: [(String, String)] = [
            ("", "unexpected end of JSON input"),
            ("{", "unexpected end of JSON input"),
            ("x", "invalid character 'x' looking for beginning of value"),
            ("{\"a\" 1}", "invalid character '1' after object key"),
            ("[1,]", "invalid character ']' looking for beginning of value"),
            ("{} {}", "invalid character '{' after top-level value"),
            ("tru", "unexpected end of JSON input"),
            ("\"\u{1}\"", "invalid character '\\x1' in string literal"),
        ]
        for (input, message) in cases {
            XCTAssertThrowsError(try JSON.parse(input), input) { error in
                XCTAssertEqual((error as? JSONParseError)?.message, message, input)
            }
        }
    }

    func testDeepNestingIsRejectedNotCrashing() {
        let deep = String(repeating: "[", count: 100_000)
        XCTAssertThrowsError(try JSON.parse(deep))
    }

    func testRandomBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("{}[]\":,0123456789.eE-+truefalsn\\u ".utf8)
        for _ in 0..<5000 {
            let length = Int.random(in: 0..<40, using: &generator)
            let bytes = (0..<length).map { _ in alphabet.randomElement(using: &generator) ?? 0 }
            if let value = try? JSON.parse(bytes) {
                XCTAssertEqual(try? JSON.parse(value.encoded()), value)
            }
        }
    }

    func testSetCreatesIntermediateObjectsAndRemoves() {
        var value: JSON = ["metadata": ["name": "a"]]
        value.set(["spec", "template", "replicas"], to: 3)
        XCTAssertEqual(value[path: "spec", "template", "replicas"], .int(3))
        value.set(["metadata", "name"], to: nil)
        XCTAssertNil(value.name)
        value.set(["missing", "x"], to: nil)
        XCTAssertNil(value["missing"])
    }

    func testObjectEqualityIgnoresKeyOrder() throws {
        XCTAssertEqual(try JSON.parse(#"{"a":1,"b":2}"#), try JSON.parse(#"{"b":2,"a":1}"#))
    }
}

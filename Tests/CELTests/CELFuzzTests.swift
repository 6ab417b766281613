import CEL
import XCTest

/// Random expressions and documents: compiling and evaluating must end in a value or a `CELError`,
/// never a crash (a trap would end the test process).
final class CELFuzzTests: XCTestCase {
    /// SplitMix64, so a failure reproduces from its seed.
    private struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    private static let atoms = [
        "self", "self.a", "self.l", "self.m", "self['a']", "1", "-1", "0", "2u", "0u", "1.5", "0.0", "'s'", "''",
        "b'x'", "true", "false", "null", "[]", "[1, 'a']", "{}", "{'a': 1}", "9223372036854775807",
        "-9223372036854775808", "18446744073709551615u", "duration('1s')", "timestamp('2020-01-01T00:00:00Z')",
        "quantity('1Gi')", "x",
    ]
    private static let binary = ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in"]
    private static let methods = [
        "size()", "contains('a')", "startsWith('')", "matches('a+')", "lowerAscii()", "split(',')", "join()",
        "substring(1)", "charAt(0)", "indexOf('a')", "isSorted()", "sum()", "min()", "max()", "find('[0-9]')",
        "all(x, x > 0)", "exists(x, x == 1)", "map(x, x + x)", "filter(x, x != null)", "exists_one(x, true)",
        "getHours()", "asInteger()", "isLessThan(quantity('1'))", "add(1)",
    ]
    private static let functions = ["int", "uint", "double", "string", "bool", "bytes", "type", "size", "has"]

    private func expression(_ random: inout Random, depth: Int) -> String {
        if depth == 0 { return Self.atoms.randomElement(using: &random) ?? "1" }
        let inner = expression(&random, depth: depth - 1)
        switch Int.random(in: 0..<7, using: &random) {
        case 0, 1:
            return
                "(\(inner) \(Self.binary.randomElement(using: &random) ?? "+") \(expression(&random, depth: depth - 1)))"
        case 2: return "\(inner).\(Self.methods.randomElement(using: &random) ?? "size()")"
        case 3: return "\(Self.functions.randomElement(using: &random) ?? "int")(\(inner))"
        case 4:
            return "(\(inner) ? \(expression(&random, depth: depth - 1)) : \(expression(&random, depth: depth - 1)))"
        case 5: return "[\(inner), \(expression(&random, depth: depth - 1))][\(Int.random(in: -1...2, using: &random))]"
        default: return "!\(inner)"
        }
    }

    func testRandomExpressionsNeverCrash() {
        var random = Random(state: 15)
        let document = json(#"{"a": 1, "l": [3, 1, 2], "m": {"k": "v", "a": [1.5]}}"#)
        var values = 0
        var errors = 0
        for _ in 0..<3000 {
            let text = expression(&random, depth: Int.random(in: 0...4, using: &random))
            do {
                _ = try CELProgram(compiling: text).evaluate(["self": document], costLimit: 10_000)
                values += 1
            } catch {
                errors += 1
            }
        }
        // Both outcomes occur, so the generator exercises evaluation and not only error paths.
        XCTAssertGreaterThan(values, 300)
        XCTAssertGreaterThan(errors, 300)
    }

    func testRandomTextNeverCrashesTheParser() {
        var random = Random(state: 10)
        let alphabet = Array("ab1.0u'\"\\[]{}()<>=!&|+-*/%?:,rbx_ \n`é")
        for _ in 0..<3000 {
            let length = Int.random(in: 0...30, using: &random)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &random) ?? "a" })
            _ = try? CELProgram(compiling: text).evaluate([:], costLimit: 1000)
        }
    }

    func testRandomTextNeverCrashesTheParsingFunctions() throws {
        var random = Random(state: 7)
        let alphabet = Array("0123456789.:-+TZtz eEnumkKMGTPi hsµ")
        let programs = try [
            "int(self)", "uint(self)", "double(self)", "bool(self)", "duration(self)", "timestamp(self)",
            "quantity(self)", "isQuantity(self)", "self.matches(self)", "self.split(self)",
        ].map { try CELProgram(compiling: $0) }
        for _ in 0..<2000 {
            let length = Int.random(in: 0...40, using: &random)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &random) ?? "0" })
            for program in programs { _ = try? program.evaluate(["self": .string(text)]) }
        }
        assertTable([
            (
                "timestamp('2023-01-01T00:00:00.1234567891Z') == timestamp('2023-01-01T00:00:00.123456789Z')",
                .value(.bool(true))
            )
        ])
    }

    func testReferencesSeesFreeVariablesOnly() throws {
        XCTAssertTrue(try CELProgram(compiling: "self.x == oldSelf.x").references(variable: "oldSelf"))
        XCTAssertFalse(try CELProgram(compiling: "self.myoldSelf == 1").references(variable: "oldSelf"))
        XCTAssertFalse(try CELProgram(compiling: "self.all(oldSelf, oldSelf > 0)").references(variable: "oldSelf"))
        XCTAssertTrue(try CELProgram(compiling: "oldSelf.all(x, x > 0)").references(variable: "oldSelf"))
    }
}

import APIMachinery
import CEL
import XCTest

/// What a table row expects: a value, or an error whose message is exactly this text (for compile
/// errors, the first line of cel-go's message).
enum Expected {
    case value(CELValue)
    case error(String)
}

/// Runs table rows of `(expression, expected)` with `variables` bound, reporting each failing row
/// at its own line.
func assertTable(
    _ rows: [(String, Expected)], variables: [String: CELValue] = [:], file: StaticString = #filePath,
    line: UInt = #line
) {
    for (expression, expected) in rows {
        let outcome: Result<CELValue, CELError>
        do {
            let program = try CELProgram(compiling: expression)
            outcome = .success(try program.evaluate(variables))
        } catch {
            outcome = .failure(error)
        }
        switch (expected, outcome) {
        case (.value(let want), .success(let got)):
            if !sameValue(want, got) {
                XCTFail("\(expression): got \(got), want \(want)", file: file, line: line)
            }
        case (.error(let want), .failure(let error)):
            let message = error.message.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
            XCTAssertEqual(message, want, expression, file: file, line: line)
        case (.value(let want), .failure(let error)):
            XCTFail("\(expression): got error \(error.message), want \(want)", file: file, line: line)
        case (.error(let want), .success(let got)):
            XCTFail("\(expression): got \(got), want error \(want)", file: file, line: line)
        }
    }
}

/// Equality that also tells `1` from `1u` and `1.0`, which CEL's own `==` treats as equal, and
/// lets NaN match NaN.
func sameValue(_ a: CELValue, _ b: CELValue) -> Bool {
    switch (a, b) {
    case (.int(let x), .int(let y)): return x == y
    case (.uint(let x), .uint(let y)): return x == y
    case (.double(let x), .double(let y)): return x == y || (x.isNaN && y.isNaN)
    case (.int, _), (.uint, _), (.double, _): return false
    case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy { sameValue($0, $1) }
    default: return a == b
    }
}

func json(_ text: String) -> CELValue {
    do {
        return CELValue(json: try JSON.parse(text))
    } catch {
        XCTFail("bad test JSON \(text): \(error)")
        return .null
    }
}

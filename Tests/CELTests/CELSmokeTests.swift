import CEL
import XCTest

final class CELSmokeTests: XCTestCase {
    func testCompilesAndEvaluates() throws {
        let program = try CELProgram(compiling: "1 + 2 == 3")
        XCTAssertEqual(try program.evaluate([:]), .bool(true))
    }
}

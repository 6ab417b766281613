import APIMachinery
import XCTest

final class GoFormatTests: XCTestCase {
    func testFloatsPrintAsGosPercentV() {
        let cases: [(Double, String)] = [
            (10, "10"), (1.5, "1.5"), (0.5, "0.5"), (123456, "123456"), (1_000_000, "1e+06"),
            (1_234_567, "1.234567e+06"), (0.0001, "0.0001"), (0.00001, "1e-05"), (-2.25, "-2.25"), (1e21, "1e+21"),
        ]
        for (value, text) in cases { XCTAssertEqual(GoFormat.float(value), text, "\(value)") }
    }

    func testQuoteEscapesAsGosPercentQ() {
        XCTAssertEqual(GoFormat.quote("a\"b\\c\n"), #""a\"b\\c\n""#)
    }
}

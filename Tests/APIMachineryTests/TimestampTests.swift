import APIMachinery
import XCTest

final class TimestampTests: XCTestCase {
    func testFormatAndParseRoundTrip() {
        XCTAssertEqual(Timestamp.format(epochSeconds: 0), "1970-01-01T00:00:00Z")
        XCTAssertEqual(Timestamp.format(epochSeconds: 1_700_000_000), "2023-11-14T22:13:20Z")
        XCTAssertEqual(Timestamp.parse("2023-11-14T22:13:20Z"), 1_700_000_000)
        XCTAssertEqual(Timestamp.parse("2023-11-14T23:13:20.123+01:00"), 1_700_000_000)
        XCTAssertNil(Timestamp.parse("yesterday"))
    }

    func testHumanDurationMatchesKubectl() {
        let cases: [(Int64, String)] = [
            (5, "5s"), (119, "119s"), (120, "2m"), (125, "2m5s"), (600, "10m"), (3 * 3600, "3h"),
            (3 * 3600 + 60 * 5, "3h5m"), (30 * 3600, "30h"), (3 * 86400 + 3600, "3d1h"), (30 * 86400, "30d"),
            (3 * 365 * 86400, "3y"), (-5, "<invalid>"),
        ]
        for (seconds, text) in cases { XCTAssertEqual(Timestamp.humanDuration(seconds: seconds), text, "\(seconds)") }
    }
}

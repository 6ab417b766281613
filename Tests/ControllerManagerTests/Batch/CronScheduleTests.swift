import APIMachinery
import Foundation
import XCTest

@testable import ControllerManager

final class CronScheduleTests: XCTestCase {
    private let utc = TimeZone(identifier: "UTC") ?? .current

    private func date(_ text: String) throws -> Date {
        let seconds = try XCTUnwrap(Timestamp.parse(text), text)
        return Date(timeIntervalSince1970: Double(seconds))
    }

    private func format(_ date: Date?) -> String? {
        date.map { Timestamp.format(epochSeconds: Int64($0.timeIntervalSince1970)) }
    }

    func testNextActivationFollowsRobfigCronSemantics() throws {
        let cases: [(schedule: String, after: String, next: String?)] = [
            ("*/15 * * * *", "2024-01-01T00:07:00Z", "2024-01-01T00:15:00Z"),
            ("*/15 * * * *", "2024-01-01T00:15:00Z", "2024-01-01T00:30:00Z"),
            ("5/20 * * * *", "2024-01-01T00:26:00Z", "2024-01-01T00:45:00Z"),
            ("0 9 * * mon-fri", "2024-01-05T09:00:00Z", "2024-01-08T09:00:00Z"),
            ("0 0 * JAN-MAR SUN", "2024-03-31T00:00:00Z", "2025-01-05T00:00:00Z"),
            ("@hourly", "2024-01-01T10:30:00Z", "2024-01-01T11:00:00Z"),
            ("@daily", "2024-01-01T10:30:00Z", "2024-01-02T00:00:00Z"),
            ("@weekly", "2024-01-01T10:30:00Z", "2024-01-07T00:00:00Z"),
            ("@monthly", "2024-01-31T10:30:00Z", "2024-02-01T00:00:00Z"),
            ("@yearly", "2024-03-01T00:00:00Z", "2025-01-01T00:00:00Z"),
            // Both day fields restricted: either may match (the 13th, or any Friday).
            ("0 0 13 * 5", "2024-01-01T00:00:00Z", "2024-01-05T00:00:00Z"),
            ("0 0 13 * 5", "2024-01-12T00:00:00Z", "2024-01-13T00:00:00Z"),
            // One of them `*`: both must match (the 29th of February only).
            ("0 0 29 2 *", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z"),
            ("0 0 30 2 *", "2024-01-01T00:00:00Z", nil),
            ("@every 90s", "2024-01-01T00:00:00Z", "2024-01-01T00:01:30Z"),
            // Zones: prefixes and the offset of a half-hour zone.
            ("CRON_TZ=America/New_York 0 9 * * *", "2024-01-01T00:00:00Z", "2024-01-01T14:00:00Z"),
            ("TZ=Asia/Kolkata 0 0 * * *", "2024-01-01T00:00:00Z", "2024-01-01T18:30:00Z"),
            // Spring forward in New York (02:00 → 03:00 on 10 March 2024): 02:30 does not exist that day.
            ("TZ=America/New_York 30 2 * * *", "2024-03-09T08:00:00Z", "2024-03-11T06:30:00Z"),
            // Fall back (02:00 → 01:00 on 3 November 2024): 01:30 happens twice, and runs twice.
            ("TZ=America/New_York 30 1 * * *", "2024-11-03T04:00:00Z", "2024-11-03T05:30:00Z"),
            ("TZ=America/New_York 30 1 * * *", "2024-11-03T05:30:00Z", "2024-11-03T06:30:00Z"),
            ("TZ=America/New_York 30 1 * * *", "2024-11-03T06:30:00Z", "2024-11-04T06:30:00Z"),
            // Hourly across the fall-back hour: every wall hour, the repeated one included.
            ("TZ=America/New_York 0 * * * *", "2024-11-03T05:00:00Z", "2024-11-03T06:00:00Z"),
        ]
        for (spec, after, expected) in cases {
            let schedule = try CronSchedule(parsing: spec, defaultTimeZone: utc)
            XCTAssertEqual(format(schedule.next(after: try date(after))), expected, "\(spec) after \(after)")
        }
    }

    func testTheControllersZoneAppliesWithoutAPrefix() throws {
        let newYork = try XCTUnwrap(TimeZone(identifier: "America/New_York"))
        let schedule = try CronSchedule(parsing: "0 9 * * *", defaultTimeZone: newYork)
        XCTAssertEqual(format(schedule.next(after: try date("2024-07-01T00:00:00Z"))), "2024-07-01T13:00:00Z")
    }

    func testMalformedSchedulesAreRefusedWithRobfigsMessages() {
        let cases: [(String, String)] = [
            ("", "empty spec string"),
            ("* * * *", "expected exactly 5 fields, found 4: * * * *"),
            ("* * * * * *", "expected exactly 5 fields, found 6: * * * * * *"),
            ("60 * * * *", "end of range (60) above maximum (59): 60"),
            ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
            ("* * * * 7", "end of range (7) above maximum (6): 7"),
            ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
            ("*/0 * * * *", "step of range should be a positive number: */0"),
            ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
            ("*/2/3 * * * *", "too many slashes: */2/3"),
            ("x * * * *", "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"),
            ("@fortnightly", "unrecognized descriptor: @fortnightly"),
            ("TZ=Mars/Olympus * * * * *", "provided bad location Mars/Olympus: unknown time zone Mars/Olympus"),
        ]
        for (spec, message) in cases {
            XCTAssertThrowsError(try CronSchedule(parsing: spec), spec) { error in
                XCTAssertEqual((error as? CronSchedule.ParseError)?.description, message, spec)
            }
        }
    }
}

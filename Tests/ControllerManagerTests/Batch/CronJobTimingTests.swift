import APIMachinery
import Foundation
import XCTest

@testable import ControllerManager

final class CronJobTimingTests: XCTestCase {
    private func everyMinute() throws -> CronSchedule { try CronSchedule(parsing: "* * * * *") }

    private func date(_ text: String) throws -> Date {
        Date(timeIntervalSince1970: Double(try XCTUnwrap(Timestamp.parse(text), text)))
    }

    private func format(_ date: Date?) -> String? {
        date.map { Timestamp.format(epochSeconds: Int64($0.timeIntervalSince1970)) }
    }

    func testTheMostRecentDueStartAndHowManyWereMissed() throws {
        let cases:
            [(
                created: String, last: String?, deadline: Int64?, now: String, recent: String?,
                missed: CronJobTiming.Missed
            )] = [
                ("2024-01-01T10:00:30Z", nil, nil, "2024-01-01T10:00:59Z", nil, .none),
                ("2024-01-01T10:00:30Z", nil, nil, "2024-01-01T10:01:30Z", "2024-01-01T10:01:00Z", .none),
                ("2024-01-01T10:00:30Z", nil, nil, "2024-01-01T10:05:10Z", "2024-01-01T10:05:00Z", .few),
                ("2024-01-01T10:00:30Z", "2024-01-01T10:05:00Z", nil, "2024-01-01T10:05:30Z", nil, .none),
                (
                    "2024-01-01T10:00:30Z", "2024-01-01T10:05:00Z", nil, "2024-01-01T10:06:00Z", "2024-01-01T10:06:00Z",
                    .none
                ),
                // Three hours of missed minutes is more than upstream's 100.
                ("2024-01-01T07:00:30Z", nil, nil, "2024-01-01T10:00:10Z", "2024-01-01T10:00:00Z", .many),
                // A starting deadline bounds how far back the controller looks.
                ("2024-01-01T07:00:30Z", nil, 200, "2024-01-01T10:00:10Z", "2024-01-01T10:00:00Z", .few),
                ("2024-01-01T07:00:30Z", nil, 15, "2024-01-01T10:00:10Z", "2024-01-01T10:00:00Z", .none),
                // A start older than the deadline is not due at all.
                ("2024-01-01T07:00:30Z", nil, 5, "2024-01-01T10:00:10Z", nil, .none),
            ]
        for (created, last, deadline, now, recent, missed) in cases {
            let timing = try CronJobTiming(
                schedule: try everyMinute(), created: try date(created), lastSchedule: try last.map(date),
                startingDeadlineSeconds: deadline, now: try date(now))
            XCTAssertEqual(format(timing.mostRecent), recent, "created \(created) last \(last ?? "-") now \(now)")
            XCTAssertEqual(timing.missed, missed, "created \(created) last \(last ?? "-") now \(now)")
        }
    }

    func testAnIrregularScheduleFindsItsLatestStart() throws {
        let schedule = try CronSchedule(parsing: "30 6-16/4 * * 1-5")
        let timing = try CronJobTiming(
            schedule: schedule, created: try date("2024-01-01T00:00:00Z"), lastSchedule: nil,
            startingDeadlineSeconds: nil, now: try date("2024-01-03T15:00:00Z"))
        XCTAssertEqual(format(timing.mostRecent), "2024-01-03T14:30:00Z")
    }

    func testRequeueLandsJustAfterTheNextStart() throws {
        let delay = CronJobTiming.requeueDelay(
            schedule: try everyMinute(), created: try date("2024-01-01T10:00:30Z"), lastSchedule: nil,
            now: try date("2024-01-01T10:00:40Z"))
        XCTAssertEqual(delay, .milliseconds(20_100))
    }

    func testJobNamesAndScheduledTimestamps() throws {
        let start = try date("2024-01-01T00:00:00Z")
        XCTAssertEqual(CronJobTiming.jobName(cronJob: "hello", scheduled: start), "hello-28401120")
        let newYork = try XCTUnwrap(TimeZone(identifier: "America/New_York"))
        let kolkata = try XCTUnwrap(TimeZone(identifier: "Asia/Kolkata"))
        XCTAssertEqual(
            CronJobTiming.rfc3339(start, in: try XCTUnwrap(TimeZone(identifier: "UTC"))), "2024-01-01T00:00:00Z")
        XCTAssertEqual(CronJobTiming.rfc3339(start, in: newYork), "2023-12-31T19:00:00-05:00")
        XCTAssertEqual(CronJobTiming.rfc3339(start, in: kolkata), "2024-01-01T05:30:00+05:30")
        XCTAssertEqual(CronJobController.rfc1123Z(start), "Mon, 01 Jan 2024 00:00:00 +0000")
    }
}

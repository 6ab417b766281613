public import Foundation

/// When a CronJob should have started, as upstream's `mostRecentScheduleTime` decides: from the last
/// schedule time (or the CronJob's creation), never earlier than `startingDeadlineSeconds` before now.
public struct CronJobTiming: Sendable, Hashable {
    /// How many starts were missed since the earliest time considered.
    public enum Missed: Sendable, Hashable {
        case none
        case few
        /// More than 100: upstream warns with `TooManyMissedTimes` rather than list them.
        case many
    }

    /// Where the search started.
    public var earliest: Date
    /// The latest start at or before now that is due, if any.
    public var mostRecent: Date?
    public var missed: Missed

    /// Upstream's limit on missed starts before it warns.
    public static let tooManyMissed = 100

    /// Why the schedule cannot be used (it never fires twice a second apart).
    public struct InvalidSchedule: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String { "time difference between two schedules is less than 1 second" }
    }

    /// The due start of a CronJob last scheduled at `lastSchedule` (or created at `created`) at `now`.
    public init(
        schedule: CronSchedule, created: Date, lastSchedule: Date?, startingDeadlineSeconds: Int64?, now: Date
    ) throws(InvalidSchedule) {
        var earliest = lastSchedule ?? created
        if let startingDeadlineSeconds {
            let deadline = now.addingTimeInterval(-Double(startingDeadlineSeconds))
            if deadline > earliest { earliest = deadline }
        }
        self.earliest = earliest
        missed = .none
        guard let first = schedule.next(after: earliest), now >= first else { return }
        guard let second = schedule.next(after: first), now >= second else {
            mostRecent = first
            return
        }
        let between = Int64(second.timeIntervalSince(first).rounded())
        guard between >= 1 else { throw InvalidSchedule() }
        // Count how many intervals fit since the first start, then walk the schedule only over the last one
        // or two, so a clock decades off costs no more than a recent miss.
        let elapsed = Int64(now.timeIntervalSince(first))
        let missedCount = elapsed / between + 1
        var cursor = first.addingTimeInterval(Double((missedCount - 2) * between))
        while let next = schedule.next(after: cursor), next <= now {
            mostRecent = next
            cursor = next
        }
        missed = missedCount > Int64(Self.tooManyMissed) ? .many : .few
    }

    /// How long from `now` until the CronJob should be synced again: just after its next start.
    public static func requeueDelay(
        schedule: CronSchedule, created: Date, lastSchedule: Date?, now: Date
    ) -> Duration? {
        guard
            let timing = try? CronJobTiming(
                schedule: schedule, created: created, lastSchedule: lastSchedule, startingDeadlineSeconds: nil,
                now: now),
            let next = schedule.next(after: timing.mostRecent ?? timing.earliest)
        else { return nil }
        // Upstream's nextScheduleDelta: land just after the start, never just before it.
        let seconds = next.timeIntervalSince(now) + 0.1
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// The Job's name for a start: `<cronjob>-<minutes since the epoch>`, so a start is created once.
    public static func jobName(cronJob name: String, scheduled: Date) -> String {
        "\(name)-\(Int64(scheduled.timeIntervalSince1970.rounded(.down)) / 60)"
    }

    /// RFC 3339 in `zone`, as Go formats `scheduledTime.In(zone)` for the scheduled-timestamp annotation.
    public static func rfc3339(_ date: Date, in zone: TimeZone) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let clock = ZonedClock(timeZone: zone)
        let civil = clock.civil(seconds)
        let offset = clock.offset(at: seconds)
        func pad(_ value: Int, _ width: Int = 2) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var text =
            "\(pad(civil.year, 4))-\(pad(civil.month))-\(pad(civil.day))T"
            + "\(pad(civil.hour)):\(pad(civil.minute)):\(pad(civil.second))"
        if offset == 0 {
            text += "Z"
        } else {
            let magnitude = Int(abs(offset))
            text += (offset < 0 ? "-" : "+") + "\(pad(magnitude / 3600)):\(pad(magnitude / 60 % 60))"
        }
        return text
    }
}

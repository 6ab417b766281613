public import Foundation

extension CronSchedule {
    /// The first activation strictly after `date` (whole seconds), or nil when none comes within five years
    /// (an impossible date such as `0 0 30 2 *`).
    ///
    /// The search walks month, day, hour and minute in the schedule's zone as robfig/cron does, stepping hours
    /// and minutes in absolute time: a wall time skipped by a spring-forward transition does not run that day,
    /// and one repeated by a fall-back transition runs twice.
    public func next(after date: Date) -> Date? {
        let start = Int64(date.timeIntervalSince1970.rounded(.down)) + 1
        if let interval { return Date(timeIntervalSince1970: Double(start - 1 + interval)) }
        return nextSecond(from: start).map { Date(timeIntervalSince1970: Double($0)) }
    }

    private func nextSecond(from start: Int64) -> Int64? {
        let clock = ZonedClock(timeZone: timeZone)
        var t = start
        var added = false
        let yearLimit = clock.civil(t).year + 5
        wrap: while true {
            if clock.civil(t).year > yearLimit { return nil }
            while month & (1 << UInt64(clock.civil(t).month)) == 0 {
                if !added {
                    added = true
                    let now = clock.civil(t)
                    t = clock.date(year: now.year, month: now.month, day: 1)
                }
                let now = clock.civil(t)
                t = clock.date(
                    year: now.year, month: now.month + 1, day: now.day, hour: now.hour, minute: now.minute,
                    second: now.second)
                if clock.civil(t).month == 1 { continue wrap }
            }
            while !dayMatches(clock.civil(t)) {
                if !added {
                    added = true
                    let now = clock.civil(t)
                    t = clock.date(year: now.year, month: now.month, day: now.day)
                }
                let now = clock.civil(t)
                t = clock.date(
                    year: now.year, month: now.month, day: now.day + 1, hour: now.hour, minute: now.minute,
                    second: now.second)
                // A transition at midnight moves the day's start off 00:00: step back onto it.
                let hour = Int64(clock.civil(t).hour)
                if hour != 0 { t += hour > 12 ? (24 - hour) * 3600 : -hour * 3600 }
                if clock.civil(t).day == 1 { continue wrap }
            }
            while self.hour & (1 << UInt64(clock.civil(t).hour)) == 0 {
                if !added {
                    added = true
                    let now = clock.civil(t)
                    t = clock.date(year: now.year, month: now.month, day: now.day, hour: now.hour)
                }
                t += 3600
                if clock.civil(t).hour == 0 { continue wrap }
            }
            while minute & (1 << UInt64(clock.civil(t).minute)) == 0 {
                if !added {
                    added = true
                    t -= Self.floorMod(t, 60)
                }
                t += 60
                if clock.civil(t).minute == 0 { continue wrap }
            }
            while clock.civil(t).second != 0 {
                added = true
                t += 1
                if clock.civil(t).second == 0 { continue wrap }
            }
            return t
        }
    }

    /// robfig's rule: when either day field is `*` both must match, otherwise either may.
    private func dayMatches(_ civil: ZonedClock.Civil) -> Bool {
        let domMatch = dayOfMonth & (1 << UInt64(civil.day)) != 0
        let dowMatch = dayOfWeek & (1 << UInt64(civil.weekday)) != 0
        if dayOfMonth & Self.starBit != 0 || dayOfWeek & Self.starBit != 0 { return domMatch && dowMatch }
        return domMatch || dowMatch
    }

    static func floorMod(_ value: Int64, _ divisor: Int64) -> Int64 {
        let remainder = value % divisor
        return remainder < 0 ? remainder + divisor : remainder
    }
}

/// Wall-clock arithmetic in one zone on whole seconds since the epoch, with Go's `time.Date` normalisation
/// (out-of-range fields carry over; a wall time in a transition's gap or overlap resolves as Go resolves it).
struct ZonedClock {
    struct Civil: Equatable {
        var year: Int
        var month: Int
        var day: Int
        var hour: Int
        var minute: Int
        var second: Int
        /// 0 for Sunday.
        var weekday: Int
    }

    let timeZone: TimeZone

    func offset(at seconds: Int64) -> Int64 {
        Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds))))
    }

    /// The wall clock at `seconds` since the epoch.
    func civil(_ seconds: Int64) -> Civil {
        let local = seconds + offset(at: seconds)
        let days = (local - CronSchedule.floorMod(local, 86_400)) / 86_400
        let secondOfDay = Int(CronSchedule.floorMod(local, 86_400))
        let (year, month, day) = Self.civil(fromDays: days)
        return Civil(
            year: year, month: month, day: day, hour: secondOfDay / 3600, minute: secondOfDay / 60 % 60,
            second: secondOfDay % 60, weekday: Int(CronSchedule.floorMod(days + 4, 7)))
    }

    /// Seconds since the epoch of a wall time, fields normalised as Go's `time.Date`.
    func date(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) -> Int64 {
        let monthIndex = month - 1
        let carry = monthIndex >= 0 ? monthIndex / 12 : (monthIndex - 11) / 12
        let days = Self.days(year: year + carry, month: monthIndex - carry * 12 + 1, day: 1) + Int64(day - 1)
        let local = days * 86_400 + Int64(hour) * 3600 + Int64(minute) * 60 + Int64(second)
        // Go: take the offset in force at the wall time read as UTC; if the instant it gives lies outside that
        // offset's period, use the offset in force at that instant instead.
        var offset = offset(at: local)
        let instant = local - offset
        let atInstant = self.offset(at: instant)
        if atInstant != offset { offset = atInstant }
        return local - offset
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }
}

import Foundation

/// Timestamps and durations: parsing (RFC 3339, Go durations), arithmetic within CEL's range
/// (years 1 to 9999), and the `get…` accessors with an optional time zone argument.
enum TimeFunctions {
    /// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in Unix seconds.
    static let minSeconds: Int64 = -62_135_596_800
    static let maxSeconds: Int64 = 253_402_300_799

    struct Civil {
        var year, month, day, hour, minute, second: Int
        /// 0 is Sunday.
        var dayOfWeek: Int
        /// 0 is January 1st.
        var dayOfYear: Int
    }

    static func checked(_ t: CELTimestamp) throws(CELError) -> CELTimestamp {
        guard t.seconds >= minSeconds, t.seconds <= maxSeconds else { throw .evaluation("timestamp overflow") }
        return t
    }

    static func add(_ t: CELTimestamp, nanoseconds: Int64) throws(CELError) -> CELTimestamp {
        var seconds = t.seconds + nanoseconds / 1_000_000_000
        var nanos = Int64(t.nanos) + nanoseconds % 1_000_000_000
        if nanos < 0 {
            nanos += 1_000_000_000
            seconds -= 1
        } else if nanos >= 1_000_000_000 {
            nanos -= 1_000_000_000
            seconds += 1
        }
        return try checked(CELTimestamp(seconds: seconds, nanos: Int32(nanos)))
    }

    /// `a - b` in nanoseconds; out of a Go duration's range is an overflow, as in cel-go.
    static func difference(_ a: CELTimestamp, _ b: CELTimestamp) throws(CELError) -> Int64 {
        let (scaled, overflow) = (a.seconds - b.seconds).multipliedReportingOverflow(by: 1_000_000_000)
        let (total, overflow2) = scaled.addingReportingOverflow(Int64(a.nanos) - Int64(b.nanos))
        if overflow || overflow2 { throw .evaluation("duration overflow") }
        return total
    }

    // Days since 1970-01-01 from a proleptic Gregorian date, and back (Howard Hinnant's algorithms).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(_ t: CELTimestamp, offsetSeconds: Int) -> Civil {
        let local = Int(t.seconds) + offsetSeconds
        let dayNumber = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secondOfDay = local - dayNumber * 86_400
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYearMarch = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYearMarch + 2) / 153
        let day = dayOfYearMarch - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        let weekday = ((dayNumber % 7) + 7 + 4) % 7  // 1970-01-01 was a Thursday.
        return Civil(
            year: year, month: month, day: day, hour: secondOfDay / 3600, minute: secondOfDay / 60 % 60,
            second: secondOfDay % 60, dayOfWeek: weekday,
            dayOfYear: dayNumber - days(year: year, month: 1, day: 1))
    }

    /// RFC 3339 (`2006-01-02T15:04:05.999999999Z07:00`), as cel-go's `timestamp(string)`.
    static func parseTimestamp(_ text: String) throws(CELError) -> CELTimestamp {
        let bytes = Array(text.utf8)
        let failure = CELError.evaluation("cannot parse \(text) as a timestamp")
        var i = 0
        func number(_ width: Int) throws(CELError) -> Int {
            guard i + width <= bytes.count else { throw failure }
            var value = 0
            for byte in bytes[i..<(i + width)] {
                guard byte >= 48, byte <= 57 else { throw failure }
                value = value * 10 + Int(byte - 48)
            }
            i += width
            return value
        }
        func literal(_ allowed: String) throws(CELError) {
            guard i < bytes.count, allowed.utf8.contains(bytes[i]) else { throw failure }
            i += 1
        }
        let year = try number(4)
        try literal("-")
        let month = try number(2)
        try literal("-")
        let day = try number(2)
        try literal("Tt")
        let hour = try number(2)
        try literal(":")
        let minute = try number(2)
        try literal(":")
        let second = try number(2)
        var nanos = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
                if digits < 9 { nanos = nanos * 10 + Int(bytes[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { throw failure }
            if digits < 9 { for _ in digits..<9 { nanos *= 10 } }
        }
        var offset = 0
        guard i < bytes.count else { throw failure }
        if bytes[i] == UInt8(ascii: "Z") || bytes[i] == UInt8(ascii: "z") {
            i += 1
        } else {
            let negative = bytes[i] == UInt8(ascii: "-")
            try literal("+-")
            let hours = try number(2)
            try literal(":")
            let minutes = try number(2)
            guard hours < 24, minutes < 60 else { throw failure }
            offset = (hours * 3600 + minutes * 60) * (negative ? -1 : 1)
        }
        guard i == bytes.count, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
            hour < 24, minute < 60, second < 60
        else { throw failure }
        let seconds = days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return try checked(CELTimestamp(seconds: Int64(seconds), nanos: Int32(nanos)))
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Go's `time.ParseDuration`: `[-+]?(<decimal><unit>)+` with units ns, us, µs, ms, s, m, h, or `0`.
    static func parseDuration(_ text: String) throws(CELError) -> Int64 {
        let failure = CELError.evaluation("time: invalid duration \"\(text)\"")
        var scalars = Substring(text).unicodeScalars[...]
        var negative = false
        if let first = scalars.first, first == "-" || first == "+" {
            negative = first == "-"
            scalars = scalars.dropFirst()
        }
        if String(String.UnicodeScalarView(scalars)) == "0" { return 0 }
        guard !scalars.isEmpty else { throw failure }
        let units: [(String, Double)] = [
            ("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 6e10), ("h", 3.6e12),
        ]
        var total = 0.0
        var exact: Int64 = 0
        var exactValid = true
        while !scalars.isEmpty {
            var integer = ""
            var fraction = ""
            while let c = scalars.first, ("0"..."9").contains(c) {
                integer.unicodeScalars.append(c)
                scalars = scalars.dropFirst()
            }
            if scalars.first == "." {
                scalars = scalars.dropFirst()
                while let c = scalars.first, ("0"..."9").contains(c) {
                    fraction.unicodeScalars.append(c)
                    scalars = scalars.dropFirst()
                }
            }
            guard !integer.isEmpty || !fraction.isEmpty else { throw failure }
            var unit = ""
            while let c = scalars.first, !("0"..."9").contains(c), c != "." {
                unit.unicodeScalars.append(c)
                scalars = scalars.dropFirst()
            }
            guard let scale = units.first(where: { $0.0 == unit })?.1 else {
                throw unit.isEmpty
                    ? .evaluation("time: missing unit in duration \"\(text)\"")
                    : .evaluation("time: unknown unit \"\(unit)\" in duration \"\(text)\"")
            }
            guard let value = Double(integer.isEmpty ? "0." + fraction : integer + "." + fraction) else {
                throw failure
            }
            total += value * scale
            // Whole numbers of whole-nanosecond units stay exact; fractions go through doubles.
            if fraction.isEmpty, let whole = Int64(integer) {
                let (product, overflow) = whole.multipliedReportingOverflow(by: Int64(scale))
                let (sum, overflow2) = exact.addingReportingOverflow(product)
                if overflow || overflow2 { exactValid = false } else { exact = sum }
            } else {
                exactValid = false
            }
        }
        guard total < 9.223_372_036_854_775_807e18 else { throw failure }
        let nanos = exactValid ? exact : Int64(total.rounded(.towardZero))
        return negative ? -nanos : nanos
    }

    /// The `get…` accessors of timestamps (optionally in a time zone) and durations.
    static func get(_ function: Function, _ args: [CELValue]) throws(CELError) -> CELValue {
        switch args.first {
        case .duration(let nanos):
            guard args.count == 1 else { throw .noSuchOverload }
            switch function {
            case .getHours: return .int(nanos / 3_600_000_000_000)
            case .getMinutes: return .int(nanos / 60_000_000_000)
            case .getSeconds: return .int(nanos / 1_000_000_000)
            case .getMilliseconds: return .int(nanos / 1_000_000)
            default: throw .noSuchOverload
            }
        case .timestamp(let t):
            guard args.count <= 2 else { throw .noSuchOverload }
            var offset = 0
            if args.count == 2 {
                guard case .string(let zone) = args[1] else { throw .noSuchOverload }
                offset = try offsetSeconds(zone: zone, at: t)
            }
            let c = civil(t, offsetSeconds: offset)
            switch function {
            case .getFullYear: return .int(Int64(c.year))
            case .getMonth: return .int(Int64(c.month - 1))
            case .getDayOfYear: return .int(Int64(c.dayOfYear))
            case .getDayOfMonth: return .int(Int64(c.day - 1))
            case .getDate: return .int(Int64(c.day))
            case .getDayOfWeek: return .int(Int64(c.dayOfWeek))
            case .getHours: return .int(Int64(c.hour))
            case .getMinutes: return .int(Int64(c.minute))
            case .getSeconds: return .int(Int64(c.second))
            case .getMilliseconds: return .int(Int64(t.nanos / 1_000_000))
            default: throw .noSuchOverload
            }
        default:
            throw .noSuchOverload
        }
    }

    /// `UTC`, a fixed `±HH:MM` offset, or an IANA zone name.
    private static func offsetSeconds(zone: String, at t: CELTimestamp) throws(CELError) -> Int {
        if let first = zone.first, first == "+" || first == "-" {
            let parts = zone.dropFirst().split(separator: ":")
            guard parts.count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]), hours < 24, minutes < 60
            else { throw .evaluation("unknown time zone \(zone)") }
            return (hours * 3600 + minutes * 60) * (first == "-" ? -1 : 1)
        }
        guard let timeZone = TimeZone(identifier: zone) else { throw .evaluation("unknown time zone \(zone)") }
        return timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t.seconds)))
    }
}

import Component
public import Foundation

/// A CronJob's `spec.schedule` as upstream reads it (robfig/cron's standard parser): five fields (minute,
/// hour, day of month, month, day of week) with lists, ranges, steps and names, the `@hourly`-style macros,
/// `@every <duration>`, and an optional `CRON_TZ=<zone>` or `TZ=<zone>` prefix.
public struct CronSchedule: Sendable, Hashable {
    /// Set in a field's bits when the field was `*` or `?`: it changes how day of month and day of week combine.
    static let starBit: UInt64 = 1 << 63

    /// One bit per allowed value of each field (bit n for value n), plus `starBit`.
    var minute: UInt64 = 0
    var hour: UInt64 = 0
    var dayOfMonth: UInt64 = 0
    var month: UInt64 = 0
    var dayOfWeek: UInt64 = 0
    /// For `@every`: the fixed interval in whole seconds instead of the fields.
    var interval: Int64?
    /// The zone the fields are read in.
    public var timeZone: TimeZone

    /// Why a schedule does not parse, in robfig/cron's words (upstream puts them in its events).
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
    }

    private struct Bounds {
        var min: Int
        var max: Int
        var names: [String: Int] = [:]
    }

    private static let minutes = Bounds(min: 0, max: 59)
    private static let hours = Bounds(min: 0, max: 23)
    private static let days = Bounds(min: 1, max: 31)
    private static let months = Bounds(
        min: 1, max: 12,
        names: [
            "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
            "nov": 11, "dec": 12,
        ])
    private static let weekdays = Bounds(
        min: 0, max: 6, names: ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6])

    /// Parses `spec`; fields are read in `defaultTimeZone` unless the spec names its own zone.
    public init(parsing spec: String, defaultTimeZone: TimeZone = TimeZone(secondsFromGMT: 0) ?? .current)
        throws(ParseError)
    {
        var text = Substring(spec.trimmingCharacters(in: .whitespaces))
        guard !text.isEmpty else { throw ParseError(description: "empty spec string") }
        timeZone = defaultTimeZone
        if text.hasPrefix("TZ=") || text.hasPrefix("CRON_TZ=") {
            let end = text.firstIndex(of: " ") ?? text.endIndex
            let name = String(text[text.index(after: text.firstIndex(of: "=") ?? text.startIndex)..<end])
            guard let zone = Self.zone(named: name) else {
                throw ParseError(description: "provided bad location \(name): unknown time zone \(name)")
            }
            timeZone = zone
            text = text[end...].drop { $0 == " " }
        }
        if text.hasPrefix("@") {
            try parseDescriptor(String(text))
            return
        }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw ParseError(description: "expected exactly 5 fields, found \(fields.count): \(text)")
        }
        minute = try Self.field(fields[0], Self.minutes)
        hour = try Self.field(fields[1], Self.hours)
        dayOfMonth = try Self.field(fields[2], Self.days)
        month = try Self.field(fields[3], Self.months)
        dayOfWeek = try Self.field(fields[4], Self.weekdays)
    }

    /// A zone by IANA name as Go's `time.LoadLocation` reads it: empty and `UTC` are UTC, `Local` the machine's.
    public static func zone(named name: String) -> TimeZone? {
        switch name {
        case "", "UTC": return TimeZone(identifier: "UTC")
        case "Local": return TimeZone.current
        default: return TimeZone(identifier: name)
        }
    }

    private mutating func parseDescriptor(_ descriptor: String) throws(ParseError) {
        let all = { (bounds: Bounds) in Self.bits(bounds.min, bounds.max, 1) | Self.starBit }
        minute = 1
        hour = 1
        dayOfMonth = all(Self.days)
        month = all(Self.months)
        dayOfWeek = all(Self.weekdays)
        switch descriptor {
        case "@yearly", "@annually":
            dayOfMonth = 1 << 1
            month = 1 << 1
        case "@monthly":
            dayOfMonth = 1 << 1
        case "@weekly":
            dayOfWeek = 1 << 0
        case "@daily", "@midnight":
            break
        case "@hourly":
            hour = all(Self.hours)
        default:
            let prefix = "@every "
            guard descriptor.hasPrefix(prefix) else {
                throw ParseError(description: "unrecognized descriptor: \(descriptor)")
            }
            let text = String(descriptor.dropFirst(prefix.count))
            guard let duration = GoDuration.parse(text) else {
                throw ParseError(
                    description: "failed to parse duration \(descriptor): time: invalid duration \"\(text)\"")
            }
            // robfig rounds the interval down to whole seconds, with one second at least.
            interval = max(1, duration.components.seconds)
        }
    }

    /// One comma-separated field as a bit set.
    private static func field(_ text: String, _ bounds: Bounds) throws(ParseError) -> UInt64 {
        var bits: UInt64 = 0
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            bits |= try range(String(part), bounds)
        }
        return bits
    }

    /// `*`, `?`, `n`, `a-b`, each optionally `/step`; `n/step` runs from n to the field's maximum.
    private static func range(_ expression: String, _ bounds: Bounds) throws(ParseError) -> UInt64 {
        let rangeAndStep = expression.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let lowAndHigh = rangeAndStep[0].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        var start: Int
        var end: Int
        var extra: UInt64 = 0
        if lowAndHigh[0] == "*" || lowAndHigh[0] == "?" {
            start = bounds.min
            end = bounds.max
            extra = starBit
        } else {
            start = try number(lowAndHigh[0], names: bounds.names)
            switch lowAndHigh.count {
            case 1: end = start
            case 2: end = try number(lowAndHigh[1], names: bounds.names)
            default: throw ParseError(description: "too many hyphens: \(expression)")
            }
        }
        var step = 1
        switch rangeAndStep.count {
        case 1: break
        case 2:
            step = try number(rangeAndStep[1], names: [:])
            if lowAndHigh.count == 1 { end = bounds.max }
            if step > 1 { extra = 0 }
        default: throw ParseError(description: "too many slashes: \(expression)")
        }
        if start < bounds.min {
            throw ParseError(description: "beginning of range (\(start)) below minimum (\(bounds.min)): \(expression)")
        }
        if end > bounds.max {
            throw ParseError(description: "end of range (\(end)) above maximum (\(bounds.max)): \(expression)")
        }
        if start > end {
            throw ParseError(description: "beginning of range (\(start)) beyond end of range (\(end)): \(expression)")
        }
        if step == 0 { throw ParseError(description: "step of range should be a positive number: \(expression)") }
        return bits(start, end, step) | extra
    }

    private static func number(_ text: String, names: [String: Int]) throws(ParseError) -> Int {
        if let named = names[text.lowercased()] { return named }
        guard let value = Int(text) else {
            throw ParseError(
                description: "failed to parse int from \(text): strconv.Atoi: parsing \"\(text)\": invalid syntax")
        }
        guard value >= 0 else { throw ParseError(description: "negative number (\(value)) not allowed: \(text)") }
        return value
    }

    private static func bits(_ start: Int, _ end: Int, _ step: Int) -> UInt64 {
        stride(from: start, through: end, by: step).reduce(UInt64(0)) { $0 | (1 << UInt64($1)) }
    }
}

import APIMachinery

/// The type conversions `int()`, `uint()`, `double()`, `string()`, `bool()`, `bytes()`, `type()`,
/// `dyn()`, `duration()` and `timestamp()`, with cel-go's range errors and Go's parse messages.
enum Conversions {
    static func convert(_ function: Function, _ value: CELValue) throws(CELError) -> CELValue {
        switch (function, value) {
        case (.dyn, _): return value
        case (.type, _): return .type(value.type)

        case (.int, .int): return value
        case (.int, .uint(let u)):
            guard u <= UInt64(Int64.max) else { throw .integerOverflow }
            return .int(Int64(u))
        case (.int, .double(let d)):
            // Like cel-go: the bounds exclude the ends, whose doubles round beyond int64.
            guard d.isFinite, d > -9.223_372_036_854_775_808e18, d < 9.223_372_036_854_775_807e18 else {
                throw .integerOverflow
            }
            return .int(Int64(d.rounded(.towardZero)))
        case (.int, .string(let s)):
            guard let i = Int64(s) else { throw parseError("ParseInt", s, outOfRange: isDigits(s)) }
            return .int(i)
        case (.int, .timestamp(let t)): return .int(t.seconds)
        case (.int, .duration(let nanos)): return .int(nanos)

        case (.uint, .uint): return value
        case (.uint, .int(let i)):
            guard i >= 0 else { throw .unsignedOverflow }
            return .uint(UInt64(i))
        case (.uint, .double(let d)):
            guard d.isFinite, d >= 0, d < 1.844_674_407_370_955_161_6e19 else { throw .unsignedOverflow }
            return .uint(UInt64(d.rounded(.towardZero)))
        case (.uint, .string(let s)):
            guard let u = UInt64(s) else { throw parseError("ParseUint", s, outOfRange: isDigits(s)) }
            return .uint(u)

        case (.double, .double): return value
        case (.double, .int(let i)): return .double(Double(i))
        case (.double, .uint(let u)): return .double(Double(u))
        case (.double, .string(let s)):
            guard let d = parseDouble(s) else { throw parseError("ParseFloat", s, outOfRange: false) }
            return .double(d)

        case (.string, .string): return value
        case (.string, .int(let i)): return .string(String(i))
        case (.string, .uint(let u)): return .string(String(u))
        case (.string, .double(let d)): return .string(doubleString(d))
        case (.string, .bool(let b)): return .string(b ? "true" : "false")
        case (.string, .bytes(let b)):
            guard let s = String(validating: b, as: UTF8.self) else {
                throw .evaluation("invalid UTF-8 in bytes, cannot convert to string")
            }
            return .string(s)
        case (.string, .duration(let nanos)): return .string(durationString(nanos))
        case (.string, .timestamp(let t)): return .string(timestampString(t))
        case (.string, .quantity(let q)): return .string(q.canonical)

        case (.bool, .bool): return value
        case (.bool, .string(let s)):
            switch s {
            case "1", "t", "T", "TRUE", "true", "True": return .bool(true)
            case "0", "f", "F", "FALSE", "false", "False": return .bool(false)
            default: throw .evaluation("type conversion error from 'string' to 'bool'")
            }

        case (.bytes, .bytes): return value
        case (.bytes, .string(let s)): return .bytes(Array(s.utf8))

        case (.duration, .duration): return value
        case (.duration, .string(let s)): return .duration(try TimeFunctions.parseDuration(s))
        case (.timestamp, .timestamp): return value
        case (.timestamp, .string(let s)): return .timestamp(try TimeFunctions.parseTimestamp(s))
        case (.timestamp, .int(let seconds)):
            return .timestamp(try TimeFunctions.checked(CELTimestamp(seconds: seconds)))

        default:
            throw .noSuchOverload
        }
    }

    private static func isDigits(_ s: String) -> Bool {
        let body = s.hasPrefix("-") || s.hasPrefix("+") ? s.dropFirst() : Substring(s)
        return !body.isEmpty && body.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// Go's `strconv` error text, which cel-go passes through.
    private static func parseError(_ function: String, _ text: String, outOfRange: Bool) -> CELError {
        .evaluation(
            "strconv.\(function): parsing \(GoFormat.quote(text)): \(outOfRange ? "value out of range" : "invalid syntax")"
        )
    }

    /// Go's `ParseFloat` spellings: decimal and exponent forms, `Inf`, `Infinity`, `NaN` (any case).
    private static func parseDouble(_ s: String) -> Double? {
        let lower = s.lowercased()
        switch lower {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan": return .nan
        default: break
        }
        guard !lower.contains("x"), !lower.contains("n"), !lower.contains("i") else { return nil }
        return Double(s)
    }

    /// Go's `%g` for a double, as cel-go's `string(double)`.
    static func doubleString(_ d: Double) -> String { GoFormat.float(d) }

    /// A duration as cel-go's `string(duration)`: seconds with up to nine fractional digits and `s`.
    static func durationString(_ nanos: Int64) -> String {
        let sign = nanos < 0 ? "-" : ""
        let magnitude = nanos.magnitude
        let seconds = magnitude / 1_000_000_000
        let fraction = magnitude % 1_000_000_000
        return sign + String(seconds) + fractionString(fraction) + "s"
    }

    /// `.123` for 123,000,000 nanoseconds; empty for zero.
    static func fractionString(_ nanos: UInt64) -> String {
        if nanos == 0 { return "" }
        var digits = String(nanos)
        digits = String(repeating: "0", count: 9 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "." + digits
    }

    /// A timestamp in RFC 3339 with nanoseconds, as Go's `time.RFC3339Nano` in UTC.
    static func timestampString(_ t: CELTimestamp) -> String {
        let civil = TimeFunctions.civil(t, offsetSeconds: 0)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(civil.year, 4))-\(pad(civil.month, 2))-\(pad(civil.day, 2))T\(pad(civil.hour, 2)):"
            + "\(pad(civil.minute, 2)):\(pad(civil.second, 2))\(fractionString(UInt64(t.nanos)))Z"
    }

    /// A value as it appears in messages such as `no such key: x`.
    static func displayString(_ value: CELValue) -> String {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .double(let d): return doubleString(d)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        default: return "\(value.json)"
        }
    }
}

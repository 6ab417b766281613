import APIMachinery
import Foundation

/// The string formats upstream validates in CRDs (kube-openapi's strfmt registry as 1.32 allows it); other
/// formats are dropped before validation, as upstream's `StripUnsupportedFormatsPostProcess`.
enum Formats {
    static let supported: Set<String> = [
        "bsonobjectid", "uri", "email", "hostname", "ipv4", "ipv6", "cidr", "mac", "uuid", "uuid3", "uuid4", "uuid5",
        "isbn", "isbn10", "isbn13", "creditcard", "ssn", "hexcolor", "rgbcolor", "byte", "password", "date", "duration",
        "datetime",
    ]

    /// The format validation uses: numeric formats only on their types, string formats only when known.
    static func effectiveFormat(of schema: SchemaNode) -> String {
        guard let format = schema.format, !format.isEmpty else { return "" }
        switch schema.intOrString ? "" : (schema.type ?? "") {
        case "", "string": return supported.contains(normalized(format)) ? format : ""
        case "integer": return format == "int32" || format == "int64" ? format : ""
        case "number": return format == "float" || format == "double" ? format : ""
        default: return ""
        }
    }

    /// go-openapi's name normalisation: `date-time` is `datetime`.
    static func normalized(_ format: String) -> String { format.replacingOccurrences(of: "-", with: "") }

    /// Whether `string` is valid in a string format; nil for formats that are not string formats.
    static func validate(_ format: String, _ string: String) -> Bool? {
        switch normalized(format) {
        case "bsonobjectid": return string.utf8.count == 24 && string.allSatisfy(\.isHexDigit)
        case "uri": return matches(uri, string)
        case "email": return matches(email, string)
        case "hostname": return isHostname(string)
        case "ipv4": return IPAddress.parse(string) != nil && string.contains(".")
        case "ipv6": return IPAddress.parse(string) != nil && string.contains(":")
        case "cidr": return IPAddress.isCIDR(string)
        case "mac": return matches(mac, string)
        case "uuid": return matches(uuid, string)
        case "uuid3": return matches(uuid3, string)
        case "uuid4": return matches(uuid4, string)
        case "uuid5": return matches(uuid5, string)
        case "isbn": return isISBN10(string) || isISBN13(string)
        case "isbn10": return isISBN10(string)
        case "isbn13": return isISBN13(string)
        case "creditcard": return isCreditCard(string)
        case "ssn": return matches(ssn, string)
        case "hexcolor": return matches(hexColor, string)
        case "rgbcolor": return matches(rgbColor, string)
        case "byte": return matches(base64, string)
        case "password": return true
        case "date": return isDate(string)
        case "duration": return matches(goDuration, string) || matches(unitDuration, string)
        case "datetime": return isDateTime(string)
        default: return nil
        }
    }

    // Patterns from kube-openapi's strfmt and govalidator (facts of the formats, written out here).
    private static let hostname = CompiledPattern(
        #"^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$"#
    )
    private static let uuid = CompiledPattern(
        #"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$"#)
    private static let uuid3 = CompiledPattern(
        #"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$"#)
    private static let uuid4 = CompiledPattern(
        #"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$"#)
    private static let uuid5 = CompiledPattern(
        #"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$"#)
    private static let uri = CompiledPattern(#"^([a-zA-Z][a-zA-Z0-9+.-]*:|/)[^\s\x00-\x1f]*$"#)
    private static let email = CompiledPattern(#"^([^@\s<>]+@[^@\s<>]+\.?[^@\s<>]*|[^<>]*<[^@\s<>]+@[^@\s<>]+>)$"#)
    private static let mac = CompiledPattern(
        #"^([0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){7}|[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){19}|[0-9A-Fa-f]{4}(\.[0-9A-Fa-f]{4}){2}|[0-9A-Fa-f]{4}(\.[0-9A-Fa-f]{4}){3}|[0-9A-Fa-f]{4}(\.[0-9A-Fa-f]{4}){9})$"#
    )
    private static let ssn = CompiledPattern(#"^\d{3}[- ]?\d{2}[- ]?\d{4}$"#)
    private static let hexColor = CompiledPattern(#"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"#)
    private static let rgbColor = CompiledPattern(
        #"^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$"#
    )
    private static let base64 = CompiledPattern(
        #"^(?:[A-Za-z0-9+\/]{4})*(?:[A-Za-z0-9+\/]{2}==|[A-Za-z0-9+\/]{3}=|[A-Za-z0-9+\/]{4})$"#)
    private static let goDuration = CompiledPattern(
        #"^[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$"#)
    private static let unitDuration = CompiledPattern(
        #"^[0-9]+\s*(ns|us|µs|ms|s|m|h|d|w|nanoseconds?|microseconds?|milliseconds?|seconds?|sec|minutes?|min|hours?|hr|days?|weeks?)$"#
    )
    private static let time = CompiledPattern(
        #"^([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$"#)

    private static func matches(_ pattern: CompiledPattern?, _ string: String) -> Bool {
        pattern?.matches(string) ?? false
    }

    private static func isHostname(_ string: String) -> Bool {
        guard matches(hostname, string), string.utf8.count <= 255 else { return false }
        return string.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { $0.utf8.count <= 63 }
    }

    /// RFC 3339 full-date, a real day of a real month.
    static func isDate(_ string: String) -> Bool {
        let parts = string.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]), (1...12).contains(month)
        else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return (1...days).contains(day)
    }

    /// strfmt's `IsDateTime`: a date, `T`, a time with seconds and a zone (`Z` or `±hh:mm`), any case.
    static func isDateTime(_ string: String) -> Bool {
        let parts = string.lowercased().split(separator: "t", omittingEmptySubsequences: false)
        guard parts.count >= 2, isDate(String(parts[0])) else { return false }
        let time = String(parts[1])
        guard matches(Self.time, time) else { return false }
        let fields = time.prefix(8).split(separator: ":").compactMap { Int($0) }
        return fields.count == 3 && fields[0] <= 23 && fields[1] <= 59 && fields[2] <= 59
    }

    private static func isISBN10(_ string: String) -> Bool {
        let digits = Array(string.filter { $0 != " " && $0 != "-" })
        guard digits.count == 10, digits[0..<9].allSatisfy(\.isASCII), digits[0..<9].allSatisfy(\.isNumber),
            digits[9].isNumber || digits[9] == "X"
        else { return false }
        var sum = 0
        for (index, digit) in digits.enumerated() {
            let value = digit == "X" ? 10 : Int(String(digit)) ?? 0
            sum += (index + 1) * value
        }
        return sum % 11 == 0
    }

    private static func isISBN13(_ string: String) -> Bool {
        let digits = string.filter { $0 != " " && $0 != "-" }.compactMap { $0.isASCII ? $0.wholeNumberValue : nil }
        guard digits.count == 13, string.filter({ $0 != " " && $0 != "-" }).count == 13 else { return false }
        var sum = 0
        for (index, digit) in digits.dropLast().enumerated() { sum += digit * (index % 2 == 0 ? 1 : 3) }
        return (10 - sum % 10) % 10 == digits[12]
    }

    private static let creditCard = CompiledPattern(
        #"^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|(222[1-9]|22[3-9][0-9]|2[3-6][0-9]{2}|27[01][0-9]|2720)[0-9]{12}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11}|6[27][0-9]{14})$"#
    )

    /// govalidator's credit card check: the digits match a card number's shape and pass Luhn.
    private static func isCreditCard(_ string: String) -> Bool {
        let digits = string.filter { $0.isASCII && $0.isNumber }
        guard matches(creditCard, digits) else { return false }
        var sum = 0
        for (offset, character) in digits.reversed().enumerated() {
            var digit = character.wholeNumberValue ?? 0
            if offset % 2 == 1 {
                digit *= 2
                if digit > 9 { digit -= 9 }
            }
            sum += digit
        }
        return sum % 10 == 0
    }
}

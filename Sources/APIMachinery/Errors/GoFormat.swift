import Foundation

/// Go's `fmt` renderings that upstream's messages are made of, so ours read byte for byte the same.
public enum GoFormat {
    /// `%q` (strconv.Quote) of a string: double quotes, with Go's escapes for quotes, backslashes and
    /// control characters.
    public static func quote(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// `%v` of a float64: the shortest digits, in exponent form when the exponent is below -4 or at least 6
    /// (Go prints `1e+06`, `1.5`, `123456`, `1e-05`).
    public static func float(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        // Swift's description holds the shortest round-trip digits; only their layout differs from Go's.
        var text = "\(abs(value))"
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let point = text.firstIndex(of: ".") ?? text.endIndex
        var digits = Array(text.replacingOccurrences(of: ".", with: ""))
        var decimalPoint = text.distance(from: text.startIndex, to: point) + exponent
        while digits.first == "0" && digits.count > 1 {
            digits.removeFirst()
            decimalPoint -= 1
        }
        while digits.last == "0" && digits.count > 1 { digits.removeLast() }
        let sign = value < 0 ? "-" : ""
        let exp10 = decimalPoint - 1
        if exp10 < -4 || exp10 >= 6 {
            var mantissa = String(digits[0])
            if digits.count > 1 { mantissa += "." + String(digits[1...]) }
            let magnitude = abs(exp10)
            return sign + mantissa + "e" + (exp10 < 0 ? "-" : "+") + (magnitude < 10 ? "0" : "") + String(magnitude)
        }
        if decimalPoint <= 0 {
            return sign + "0." + String(repeating: "0", count: -decimalPoint) + String(digits)
        }
        if decimalPoint >= digits.count {
            return sign + String(digits) + String(repeating: "0", count: decimalPoint - digits.count)
        }
        return sign + String(digits[..<decimalPoint]) + "." + String(digits[decimalPoint...])
    }
}

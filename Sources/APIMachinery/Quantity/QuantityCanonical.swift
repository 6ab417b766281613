extension Quantity {
    /// The text upstream's `String()` (and so its JSON) produces.
    ///
    /// Normally that is the canonical form: no fraction digits, the largest suffix of the quantity's
    /// format that keeps the value exact, and a sign only when negative (`1.5Gi` is `1536Mi`, `0.5`
    /// is `500m`, `1000m` is `1`). Two upstream habits are kept: text parsed on upstream's fast path
    /// that already has canonical digits is printed as written (`+1`, `1E3` and `001` stay so), and a
    /// BinarySI value that is a fraction, or below 1Ki, prints as DecimalSI.
    ///
    /// Values past the largest suffix (above 10^18 in DecimalSI, 1024^7 in BinarySI) use exponent
    /// form, as upstream's fix for those (kubernetes#140459) does: `1000E` prints as `1e21`.
    public var canonical: String {
        if let verbatim { return verbatim }
        if isZero { return "0" }
        let sign = isNegative ? "-" : ""
        var style = format
        if style == .binarySI {
            if let (digits, power) = binaryForm(), power < Self.binarySuffixes.count {
                return sign + digits.decimalString + Self.binarySuffixes[power]
            }
            style = exponent < 0 || belowOneKibi ? .decimalSI : .decimalExponent
        }
        // Lower the exponent to a multiple of three, keeping the digits whole.
        let excess = ((exponent % 3) + 3) % 3
        var digits = mantissa
        digits.multiply(byPowerOfTen: excess)
        let power = exponent - excess
        if style == .decimalSI, let suffix = Self.decimalSuffixes[power] {
            return sign + digits.decimalString + suffix
        }
        return sign + digits.decimalString + (power == 0 ? "" : "e\(power)")
    }

    private static let binarySuffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]

    private static let decimalSuffixes: [Int: String] = [
        -9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E",
    ]

    private var belowOneKibi: Bool {
        guard exponent >= 0 else { return true }
        var whole = mantissa
        whole.multiply(byPowerOfTen: exponent)
        return whole < QuantityMagnitude(1024)
    }

    /// The magnitude as `digits × 1024^power` with `digits` not divisible by 1024, or nil when the
    /// value is not a whole number of at least 1024 and so cannot carry a binary suffix.
    private func binaryForm() -> (QuantityMagnitude, Int)? {
        guard exponent >= 0, !belowOneKibi else { return nil }
        var digits = mantissa
        digits.multiply(byPowerOfTen: exponent)
        var power = 0
        while digits.remainder(dividingBy: 1024) == 0 {
            digits.divide(by: 1024)
            power += 1
        }
        return (digits, power)
    }
}

/// Why an `IntOrString` has no scaled value: a string that is not a whole-number percentage.
public struct IntOrStringError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

extension IntOrString: CustomStringConvertible {
    /// The value as written: `8080`, `http`, `25%`.
    public var description: String {
        switch self {
        case .int(let value): return String(value)
        case .string(let value): return value
        }
    }

    /// An integer as itself, a percentage (`"25%"`) as that share of `total`, rounded up or down, as upstream's
    /// `GetScaledValueFromIntOrPercent`; other strings are errors.
    ///
    /// For example `maxSurge: 25%` of 10 replicas is 3 rounded up and `maxUnavailable: 25%` is 2 rounded down.
    public func scaledValue(total: Int, roundUp: Bool) throws(IntOrStringError) -> Int {
        switch self {
        case .int(let value):
            return Int(value)
        case .string(let text):
            guard text.hasSuffix("%") else {
                throw IntOrStringError("invalid value for IntOrString: invalid type: string is not a percentage")
            }
            guard let percent = Int(text.dropLast()) else {
                throw IntOrStringError("invalid value for IntOrString: invalid value \"\(text)\"")
            }
            // Integer arithmetic gives upstream's float result exactly, without its rounding hazards.
            let (product, overflow) = percent.multipliedReportingOverflow(by: total)
            guard !overflow else {
                throw IntOrStringError("invalid value for IntOrString: \"\(text)\" of \(total) is out of range")
            }
            let quotient = product / 100
            let remainder = product % 100
            if remainder == 0 { return quotient }
            // `/` truncates toward zero; step to the floor or the ceiling as asked.
            if roundUp { return product > 0 ? quotient + 1 : quotient }
            return product < 0 ? quotient - 1 : quotient
        }
    }
}

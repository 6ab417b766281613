/// A Kubernetes resource quantity (`resource.Quantity`): an exact decimal that remembers the suffix
/// style it was written in, and parses, compares, adds and prints as Go's apimachinery does.
///
/// Equality, hashing and ordering look at the value only, so `1Gi == 1073741824`.
public struct Quantity: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// How a quantity prints its magnitude, as upstream's `Format`.
    public enum Format: String, Sendable, Hashable {
        /// `12e6`.
        case decimalExponent = "DecimalExponent"
        /// `12Mi`, powers of 1024.
        case binarySI = "BinarySI"
        /// `12M`, powers of 1000.
        case decimalSI = "DecimalSI"
    }

    /// Zero is never negative, so each value has exactly one representation.
    var isNegative: Bool
    /// The magnitude divided by `10^exponent`, with every factor of ten moved into `exponent`
    /// (and `exponent == 0` for zero), so equal values have equal fields.
    var mantissa: QuantityMagnitude
    var exponent: Int
    private var storedFormat: Format
    /// The text this was parsed from, when upstream prints that text back unchanged (see
    /// `canonical`); dropped by any change, as upstream drops its cached string.
    var verbatim: String?

    /// The suffix style used by `canonical`.
    public var format: Format {
        get { storedFormat }
        set {
            storedFormat = newValue
            verbatim = nil
        }
    }

    init(negative: Bool, magnitude: QuantityMagnitude, exponent: Int, format: Format, verbatim: String? = nil) {
        var mantissa = magnitude
        let zeros = mantissa.removeTrailingDecimalZeros()
        self.isNegative = negative && !mantissa.isZero
        self.mantissa = mantissa
        self.exponent = mantissa.isZero ? 0 : exponent + zeros
        self.storedFormat = format
        self.verbatim = verbatim
    }

    /// Zero, printed as `0`.
    public init() {
        self.init(negative: false, magnitude: QuantityMagnitude(), exponent: 0, format: .decimalSI)
    }

    /// A whole number of units, as upstream's `NewQuantity`.
    public init(_ value: Int64, format: Format = .decimalSI) {
        self.init(negative: value < 0, magnitude: QuantityMagnitude(value.magnitude), exponent: 0, format: format)
    }

    /// A number of thousandths, as upstream's `NewMilliQuantity`.
    public init(milliValue: Int64, format: Format = .decimalSI) {
        self.init(
            negative: milliValue < 0, magnitude: QuantityMagnitude(milliValue.magnitude), exponent: -3, format: format)
    }

    public var isZero: Bool { mantissa.isZero }

    /// -1, 0 or 1.
    public var sign: Int { isZero ? 0 : isNegative ? -1 : 1 }

    public var description: String { canonical }

    /// The value in whole units, rounded away from zero (`1.1` is 2, `-1.1` is -2), the rule upstream
    /// documents and follows for int64-sized input (its big-decimal path rounds some negatives up).
    ///
    /// Upstream leaves values beyond int64 undefined (it returns 0 or wrapped bits, depending on how
    /// the quantity was built); this saturates at `Int64.min`/`Int64.max`, so a limit that large still
    /// compares as large.
    public var value: Int64 { scaledValue(scale: 0) }

    /// The value in thousandths, rounded away from zero and saturating like `value`.
    public var milliValue: Int64 { scaledValue(scale: -3) }

    /// The value in units of `10^scale` (`scale: -9` counts nano-units), rounded away from zero and
    /// saturating like `value`.
    public func scaledValue(scale: Int) -> Int64 {
        if isZero { return 0 }
        let shift = exponent - scale
        var magnitude = UInt64.max
        if shift >= 0 {
            // 10^19 is the largest power of ten a UInt64 holds; beyond it any non-zero value saturates.
            if shift <= 19, let small = mantissa.uint64 {
                let (product, overflow) = small.multipliedReportingOverflow(by: Self.powerOfTen(shift))
                if !overflow { magnitude = product }
            }
        } else {
            var quotient = mantissa
            let inexact = quotient.divide(byPowerOfTen: -shift)
            if let small = quotient.uint64 {
                let (rounded, overflow) = small.addingReportingOverflow(inexact ? 1 : 0)
                if !overflow { magnitude = rounded }
            }
        }
        if !isNegative { return magnitude > UInt64(Int64.max) ? .max : Int64(magnitude) }
        return magnitude >= Int64.min.magnitude ? .min : -Int64(magnitude)
    }

    static func powerOfTen(_ count: Int) -> UInt64 {
        var result: UInt64 = 1
        for _ in 0..<count { result *= 10 }
        return result
    }

    public static func == (lhs: Quantity, rhs: Quantity) -> Bool {
        lhs.isNegative == rhs.isNegative && lhs.exponent == rhs.exponent && lhs.mantissa == rhs.mantissa
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(isNegative)
        hasher.combine(exponent)
        hasher.combine(mantissa)
    }

    public static func < (lhs: Quantity, rhs: Quantity) -> Bool {
        if lhs.isNegative != rhs.isNegative { return lhs.isNegative }
        let (a, b) = aligned(lhs, rhs)
        return lhs.isNegative ? b < a : a < b
    }

    /// Both magnitudes scaled to the smaller exponent, so they compare and add limb by limb.
    private static func aligned(_ lhs: Quantity, _ rhs: Quantity) -> (QuantityMagnitude, QuantityMagnitude) {
        var a = lhs.mantissa
        var b = rhs.mantissa
        if lhs.isZero || rhs.isZero { return (a, b) }
        if lhs.exponent > rhs.exponent {
            a.multiply(byPowerOfTen: lhs.exponent - rhs.exponent)
        } else {
            b.multiply(byPowerOfTen: rhs.exponent - lhs.exponent)
        }
        return (a, b)
    }

    /// The exact sum. The result keeps the left operand's format unless the left operand is zero,
    /// as upstream's `Add` does, so a running total started from zero takes its terms' style.
    public static func + (lhs: Quantity, rhs: Quantity) -> Quantity {
        combine(lhs, rhs, negatingRight: false)
    }

    /// The exact difference, with the format rule of `+`.
    public static func - (lhs: Quantity, rhs: Quantity) -> Quantity {
        combine(lhs, rhs, negatingRight: true)
    }

    public static prefix func - (operand: Quantity) -> Quantity {
        Quantity(
            negative: !operand.isNegative, magnitude: operand.mantissa, exponent: operand.exponent,
            format: operand.format)
    }

    public static func += (lhs: inout Quantity, rhs: Quantity) { lhs = lhs + rhs }

    public static func -= (lhs: inout Quantity, rhs: Quantity) { lhs = lhs - rhs }

    private static func combine(_ lhs: Quantity, _ rhs: Quantity, negatingRight: Bool) -> Quantity {
        let format = lhs.isZero ? rhs.format : lhs.format
        let rightNegative = rhs.isNegative != negatingRight
        let exponent = lhs.isZero ? rhs.exponent : rhs.isZero ? lhs.exponent : min(lhs.exponent, rhs.exponent)
        let (a, b) = aligned(lhs, rhs)
        if lhs.isNegative == rightNegative || lhs.isZero || rhs.isZero {
            let negative = lhs.isZero ? rightNegative : lhs.isNegative
            return Quantity(negative: negative, magnitude: a + b, exponent: exponent, format: format)
        }
        if b < a { return Quantity(negative: lhs.isNegative, magnitude: a - b, exponent: exponent, format: format) }
        return Quantity(negative: rightNegative, magnitude: b - a, exponent: exponent, format: format)
    }
}

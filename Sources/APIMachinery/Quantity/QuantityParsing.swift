/// Why text is not a quantity; the messages are upstream's, so clients see the errors they know.
public enum QuantityError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text does not have the shape of a number followed by a suffix.
    case formatWrong
    /// The number has no digits where upstream needs some (`.e-10`, `Ei`).
    case numeric
    /// The suffix is not a known unit, or its exponent does not fit 64 bits.
    case suffix
    /// The magnitude is `10^maxIntegerDigits` or more. Upstream keeps such numbers but cannot add or
    /// compare them without materialising every digit; we refuse them instead.
    case outOfRange

    /// Decimal magnitudes must stay below `10^maxIntegerDigits`.
    public static let maxIntegerDigits = 1000

    public var description: String {
        switch self {
        case .formatWrong:
            return "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        case .numeric: return "unable to parse numeric part of quantity"
        case .suffix: return "unable to parse quantity's suffix"
        case .outOfRange:
            return "quantity is too large: magnitudes of 10^\(Self.maxIntegerDigits) or more are not supported"
        }
    }
}

extension Quantity {
    /// Parses `<sign><digits>[.<digits>]<suffix>` as `resource.ParseQuantity` does, including its
    /// rounding of anything below a nano-unit up to 1n and its cap of BinarySI values at 2^63-1.
    public init(parsing text: String) throws(QuantityError) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw .formatWrong }
        guard let scanned = Scanned(bytes) else { throw .formatWrong }
        guard let (base, exponent, format) = Self.interpret(suffix: scanned.suffix) else { throw .suffix }
        let fastPath = scanned.upstreamFastPath(binary: base == 2, exponent: exponent)
        // Upstream's slow path hands the number to inf.Dec, which insists on at least one digit.
        if !fastPath.taken && !scanned.hasDigits { throw .numeric }

        var digits = Array(scanned.integerDigits)
        digits.append(contentsOf: scanned.fractionDigits)
        let exponentOfDigits = (base == 10 ? exponent : 0) - scanned.fractionDigits.count
        let (magnitude, magnitudeExponent, resultFormat): (QuantityMagnitude, Int, Format)
        if base == 10 {
            (magnitude, magnitudeExponent) = try Self.decimalValue(digits: digits, exponent: exponentOfDigits)
            resultFormat = format
        } else {
            (magnitude, magnitudeExponent) = Self.binaryValue(
                digits: digits, exponent: exponentOfDigits, power: exponent)
            // A fraction of a unit cannot print with a binary suffix, so upstream switches it here.
            let belowOne = !magnitude.isZero && magnitudeExponent < 0 && magnitude < Self.pow10(-magnitudeExponent)
            resultFormat = belowOne ? .decimalSI : format
        }
        self.init(
            negative: scanned.negative, magnitude: magnitude, exponent: magnitudeExponent, format: resultFormat,
            verbatim: fastPath.keepsText ? text : nil)
    }

    /// Reads a quantity from JSON: strings (trimmed of white space, as upstream trims), numbers, and
    /// `null` as zero. A JSON number arrives here already as a Double, so one written with more than
    /// 17 significant digits is as precise as that Double, not as the original text.
    public init(json: JSON) throws(QuantityError) {
        switch json {
        case .string(let text):
            let scalars = text.unicodeScalars
            let start = scalars.firstIndex { !$0.properties.isWhitespace } ?? scalars.endIndex
            let end = scalars.lastIndex { !$0.properties.isWhitespace }.map { scalars.index(after: $0) } ?? start
            try self.init(parsing: String(scalars[start..<max(start, end)]))
        case .int(let number):
            try self.init(parsing: String(number))
        case .double(let number):
            // Swift prints the shortest text that reads back as the same Double, e.g. `1e-05`.
            guard number.isFinite else { throw .formatWrong }
            try self.init(parsing: number.description)
        case .null:
            self.init()
        case .bool, .array, .object:
            throw .formatWrong
        }
    }

    /// The JSON form upstream writes: the `canonical` string.
    public var json: JSON { .string(canonical) }

    static func pow10(_ count: Int) -> QuantityMagnitude {
        var result = QuantityMagnitude(1)
        result.multiply(byPowerOfTen: count)
        return result
    }

    /// The unit a suffix stands for: base 10 or 2, the power of that base, and the format it implies.
    private static func interpret(suffix: ArraySlice<UInt8>) -> (base: Int, exponent: Int, format: Format)? {
        switch String(decoding: suffix, as: UTF8.self) {
        case "": return (10, 0, .decimalSI)
        case "n": return (10, -9, .decimalSI)
        case "u": return (10, -6, .decimalSI)
        case "m": return (10, -3, .decimalSI)
        case "k": return (10, 3, .decimalSI)
        case "M": return (10, 6, .decimalSI)
        case "G": return (10, 9, .decimalSI)
        case "T": return (10, 12, .decimalSI)
        case "P": return (10, 15, .decimalSI)
        case "E": return (10, 18, .decimalSI)
        case "Ki": return (2, 10, .binarySI)
        case "Mi": return (2, 20, .binarySI)
        case "Gi": return (2, 30, .binarySI)
        case "Ti": return (2, 40, .binarySI)
        case "Pi": return (2, 50, .binarySI)
        case "Ei": return (2, 60, .binarySI)
        case let other:
            guard suffix.count > 1, let first = suffix.first, first == UInt8(ascii: "e") || first == UInt8(ascii: "E"),
                let parsed = Int64(other.dropFirst())
            else { return nil }
            // Upstream parses the exponent as int64 and then narrows it to int32, so `1e4294967296`
            // is 1 there; narrowing the same way keeps both sides agreeing on such input.
            return (10, Int(Int32(truncatingIfNeeded: parsed)), .decimalExponent)
        }
    }

    /// `digits × 10^exponent`, rounded up to a whole nano-unit as upstream rounds.
    private static func decimalValue(digits: [UInt8], exponent: Int) throws(QuantityError) -> (QuantityMagnitude, Int) {
        guard let first = digits.firstIndex(where: { $0 != UInt8(ascii: "0") }),
            let last = digits.lastIndex(where: { $0 != UInt8(ascii: "0") })
        else { return (QuantityMagnitude(), 0) }
        let significant = digits[first...last]
        let lowest = exponent + (digits.count - 1 - last)
        // The value lies in [10^(top-1), 10^top); rejecting early keeps huge inputs from being built.
        let top = significant.count + lowest
        guard top <= QuantityError.maxIntegerDigits else { throw .outOfRange }
        var result: (QuantityMagnitude, Int)
        if lowest >= -9 {
            result = (QuantityMagnitude(digits: significant), lowest)
        } else {
            // Digits below 10^-9 are dropped; they are not all zero, so the kept part goes up by one.
            let kept = max(0, top + 9)
            var magnitude = QuantityMagnitude(digits: significant.prefix(kept))
            magnitude = magnitude + QuantityMagnitude(1)
            result = (magnitude, -9)
        }
        // Rounding 99…9.9999999999 up can reach the next power of ten.
        if top == QuantityError.maxIntegerDigits && !(result.0 < pow10(top - result.1)) { throw .outOfRange }
        return result
    }

    /// `digits × 10^exponent × 2^power`, rounded up to a whole nano-unit and capped at 2^63-1, as
    /// upstream treats binary suffixes.
    private static func binaryValue(digits: [UInt8], exponent: Int, power: Int) -> (QuantityMagnitude, Int) {
        guard let first = digits.firstIndex(where: { $0 != UInt8(ascii: "0") }),
            let last = digits.lastIndex(where: { $0 != UInt8(ascii: "0") })
        else { return (QuantityMagnitude(), 0) }
        let significant = digits[first...last]
        let lowest = exponent + (digits.count - 1 - last)
        let top = significant.count + lowest
        let cap = QuantityMagnitude(UInt64(Int64.max))
        // At least 10^19 before the binary factor: certainly above the cap.
        guard top <= 19 else { return (cap, 0) }
        // Digits below 10^-70 only matter through whether they exist: with 2^power ≤ 2^60, no
        // nano-unit boundary falls between 10^-70 steps, so one sticky unit there rounds the same.
        let floor = -70
        var magnitude: QuantityMagnitude
        var magnitudeExponent = lowest
        if lowest >= floor {
            magnitude = QuantityMagnitude(digits: significant)
        } else {
            magnitude = QuantityMagnitude(digits: significant.prefix(max(0, top - floor))) + QuantityMagnitude(1)
            magnitudeExponent = floor
        }
        magnitude.multiply(byPowerOfTwo: power)
        if magnitudeExponent < -9 {
            if magnitude.divide(byPowerOfTen: -9 - magnitudeExponent) { magnitude = magnitude + QuantityMagnitude(1) }
            magnitudeExponent = -9
        }
        if magnitudeExponent >= 0 {
            magnitude.multiply(byPowerOfTen: magnitudeExponent)
            magnitudeExponent = 0
        }
        var scaledCap = cap
        scaledCap.multiply(byPowerOfTen: -magnitudeExponent)
        return scaledCap < magnitude ? (cap, 0) : (magnitude, magnitudeExponent)
    }
}

/// The pieces of quantity text as upstream's hand-written scanner splits them: sign, integer digits
/// without leading zeros, fraction digits, and everything after as the suffix.
private struct Scanned {
    var negative = false
    var integerDigits: ArraySlice<UInt8> = []
    var fractionDigits: ArraySlice<UInt8> = []
    var suffix: ArraySlice<UInt8> = []
    /// Whether any digit (leading zeros included) came before the suffix.
    var hasDigits = true

    /// Nil when the text does not scan, which upstream reports as the regular-expression error.
    init?(_ bytes: [UInt8]) {
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        var position = 0
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            position = 1
        }
        let zerosStart = position
        while position < bytes.count && bytes[position] == UInt8(ascii: "0") { position += 1 }
        // Upstream reads text that ends within its leading zeros (even a bare sign) as zero.
        if position == bytes.count { return }
        let sawZeros = position > zerosStart
        let integerStart = position
        while position < bytes.count && isDigit(bytes[position]) { position += 1 }
        integerDigits = bytes[integerStart..<position]
        if position < bytes.count && bytes[position] == UInt8(ascii: ".") {
            position += 1
            let fractionStart = position
            while position < bytes.count && isDigit(bytes[position]) { position += 1 }
            fractionDigits = bytes[fractionStart..<position]
        }
        hasDigits = sawZeros || !integerDigits.isEmpty || !fractionDigits.isEmpty
        let suffixStart = position
        while position < bytes.count && Self.isSuffixLetter(bytes[position]) { position += 1 }
        if position < bytes.count && (bytes[position] == UInt8(ascii: "-") || bytes[position] == UInt8(ascii: "+")) {
            position += 1
        }
        while position < bytes.count && isDigit(bytes[position]) { position += 1 }
        guard position == bytes.count else { return nil }
        suffix = bytes[suffixStart...]
    }

    private static func isSuffixLetter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "i"), UInt8(ascii: "n"), UInt8(ascii: "u"),
            UInt8(ascii: "m"), UInt8(ascii: "k"), UInt8(ascii: "K"), UInt8(ascii: "M"), UInt8(ascii: "G"),
            UInt8(ascii: "T"), UInt8(ascii: "P"):
            return true
        default:
            return false
        }
    }

    /// Whether upstream parses this on its int64 fast path, and if so whether it keeps the text as
    /// the printed form (it does when the digits already look canonical, so `+1` prints as `+1`).
    /// The value is the same on either path; the path only decides these two details.
    func upstreamFastPath(binary: Bool, exponent: Int) -> (taken: Bool, keepsText: Bool) {
        let integerCount = max(integerDigits.count, 1)
        let precision: Int
        if binary {
            precision = fractionDigits.isEmpty ? 14 - integerCount - exponent * 3 / 10 : -1
        } else {
            precision = 18 - integerCount - fractionDigits.count
        }
        let scale = (binary ? 0 : exponent) - fractionDigits.count
        guard precision >= 0, scale >= -9 else { return (false, false) }
        // At most 18 digits here, so the value fits an Int64.
        var shifted: [UInt8] = integerDigits.isEmpty ? [UInt8(ascii: "0")] : Array(integerDigits)
        shifted.append(contentsOf: fractionDigits)
        let value = shifted.reduce(Int64(0)) { $0 * 10 + Int64($1 &- UInt8(ascii: "0")) }
        if binary {
            guard !value.multipliedReportingOverflow(by: Int64(1) << Int64(exponent)).overflow else {
                return (false, false)
            }
            return (true, value & 7 != 0)
        }
        let endsInThousands = shifted.count >= 3 && shifted.suffix(3).allSatisfy { $0 == UInt8(ascii: "0") }
        return (true, scale % 3 == 0 && !endsInThousands && !integerDigits.isEmpty)
    }
}

/// An unsigned integer of any size, kept as little-endian 32-bit limbs with no zero limb on top, so
/// that equal numbers have equal limbs. It offers only what exact quantity arithmetic needs: Go's
/// apimachinery falls back to `big.Int` for the same values (long digit strings, sums past int64).
struct QuantityMagnitude: Hashable, Sendable, Comparable {
    private(set) var limbs: [UInt32]

    /// Powers of ten that fit a limb, so decimal work can go nine digits at a time.
    static let powersOfTen: [UInt32] = [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000,
    ]

    init() { limbs = [] }

    init(_ value: UInt64) {
        limbs = [UInt32(truncatingIfNeeded: value), UInt32(truncatingIfNeeded: value >> 32)]
        trim()
    }

    /// Reads ASCII decimal digits; the caller has checked that every byte is `0`...`9`.
    init(digits: some Collection<UInt8>) {
        limbs = []
        var chunk: UInt32 = 0
        var chunkLength = 0
        for byte in digits {
            chunk = chunk * 10 + UInt32(byte &- UInt8(ascii: "0"))
            chunkLength += 1
            if chunkLength == 9 {
                multiply(by: Self.powersOfTen[9], adding: chunk)
                chunk = 0
                chunkLength = 0
            }
        }
        if chunkLength > 0 { multiply(by: Self.powersOfTen[chunkLength], adding: chunk) }
    }

    var isZero: Bool { limbs.isEmpty }

    /// The value when it fits 64 bits.
    var uint64: UInt64? {
        switch limbs.count {
        case 0: return 0
        case 1: return UInt64(limbs[0])
        case 2: return UInt64(limbs[1]) << 32 | UInt64(limbs[0])
        default: return nil
        }
    }

    private mutating func trim() {
        while let last = limbs.last, last == 0 { limbs.removeLast() }
    }

    /// `self = self * factor + addend`.
    mutating func multiply(by factor: UInt32, adding addend: UInt32 = 0) {
        var carry = addend
        for index in limbs.indices {
            let (high, low) = limbs[index].multipliedFullWidth(by: factor)
            let (sum, overflow) = low.addingReportingOverflow(carry)
            limbs[index] = sum
            // `high` is at most 2^32 - 2, so adding the overflow bit cannot wrap.
            carry = high &+ (overflow ? 1 : 0)
        }
        if carry != 0 { limbs.append(carry) }
        trim()
    }

    mutating func multiply(byPowerOfTen count: Int) {
        var remaining = count
        while remaining >= 9 && !isZero {
            multiply(by: Self.powersOfTen[9])
            remaining -= 9
        }
        if remaining > 0 && !isZero { multiply(by: Self.powersOfTen[remaining]) }
    }

    mutating func multiply(byPowerOfTwo count: Int) {
        var remaining = count
        while remaining > 0 && !isZero {
            let step = min(remaining, 31)
            multiply(by: UInt32(1) << UInt32(step))
            remaining -= step
        }
    }

    /// Divides in place and returns the remainder; `divisor` must not be zero.
    @discardableResult
    mutating func divide(by divisor: UInt32) -> UInt32 {
        var remainder: UInt32 = 0
        for index in limbs.indices.reversed() {
            // The running remainder is below the divisor, so the quotient always fits a limb.
            let (quotient, rest) = divisor.dividingFullWidth((high: remainder, low: limbs[index]))
            limbs[index] = quotient
            remainder = rest
        }
        trim()
        return remainder
    }

    func remainder(dividingBy divisor: UInt32) -> UInt32 {
        var remainder: UInt32 = 0
        for limb in limbs.reversed() {
            remainder = divisor.dividingFullWidth((high: remainder, low: limb)).remainder
        }
        return remainder
    }

    /// Divides by `10^count` and reports whether anything non-zero was dropped.
    @discardableResult
    mutating func divide(byPowerOfTen count: Int) -> Bool {
        var remaining = count
        var inexact = false
        while remaining > 0 && !isZero {
            let step = min(remaining, 9)
            if divide(by: Self.powersOfTen[step]) != 0 { inexact = true }
            remaining -= step
        }
        return inexact
    }

    /// Strips trailing decimal zeros and returns how many there were (0 for zero itself).
    mutating func removeTrailingDecimalZeros() -> Int {
        guard !isZero else { return 0 }
        var count = 0
        while remainder(dividingBy: Self.powersOfTen[9]) == 0 {
            divide(by: Self.powersOfTen[9])
            count += 9
        }
        while remainder(dividingBy: 10) == 0 {
            divide(by: 10)
            count += 1
        }
        return count
    }

    static func + (lhs: QuantityMagnitude, rhs: QuantityMagnitude) -> QuantityMagnitude {
        var result = QuantityMagnitude()
        result.limbs.reserveCapacity(max(lhs.limbs.count, rhs.limbs.count) + 1)
        var carry = false
        for index in 0..<max(lhs.limbs.count, rhs.limbs.count) {
            let a = index < lhs.limbs.count ? lhs.limbs[index] : 0
            let b = index < rhs.limbs.count ? rhs.limbs[index] : 0
            let (partial, overflow1) = a.addingReportingOverflow(b)
            let (sum, overflow2) = partial.addingReportingOverflow(carry ? 1 : 0)
            result.limbs.append(sum)
            carry = overflow1 || overflow2
        }
        if carry { result.limbs.append(1) }
        return result
    }

    /// `lhs - rhs`; callers only subtract the smaller magnitude from the larger.
    static func - (lhs: QuantityMagnitude, rhs: QuantityMagnitude) -> QuantityMagnitude {
        var result = lhs
        var borrow = false
        for index in result.limbs.indices {
            let b = index < rhs.limbs.count ? rhs.limbs[index] : 0
            if !borrow && index >= rhs.limbs.count { break }
            let (partial, overflow1) = result.limbs[index].subtractingReportingOverflow(b)
            let (difference, overflow2) = partial.subtractingReportingOverflow(borrow ? 1 : 0)
            result.limbs[index] = difference
            borrow = overflow1 || overflow2
        }
        result.trim()
        return result
    }

    static func < (lhs: QuantityMagnitude, rhs: QuantityMagnitude) -> Bool {
        if lhs.limbs.count != rhs.limbs.count { return lhs.limbs.count < rhs.limbs.count }
        for index in lhs.limbs.indices.reversed() where lhs.limbs[index] != rhs.limbs[index] {
            return lhs.limbs[index] < rhs.limbs[index]
        }
        return false
    }

    /// Base-10 digits without sign or leading zeros ("0" for zero).
    var decimalString: String {
        if isZero { return "0" }
        var chunks: [UInt32] = []
        var rest = self
        while !rest.isZero { chunks.append(rest.divide(by: Self.powersOfTen[9])) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(chunks.count * 9)
        for (position, chunk) in chunks.reversed().enumerated() {
            var digits: [UInt8] = []
            var value = chunk
            repeat {
                digits.append(UInt8(ascii: "0") + UInt8(value % 10))
                value /= 10
            } while value > 0
            // Every chunk but the leading one stands for exactly nine digits.
            if position > 0 { bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: 9 - digits.count)) }
            bytes.append(contentsOf: digits.reversed())
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

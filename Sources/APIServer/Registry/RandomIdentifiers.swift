import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Random identifiers — audit IDs, object uids, generated names — from the system's CSPRNG read 2 KiB at a
/// time: `SystemRandomNumberGenerator` makes a getrandom system call for every 8 bytes, eight of them per create.
enum RandomIdentifiers {
    /// A version 4 UUID in lower case, as upstream's uids and audit IDs.
    static func uuid() -> String {
        var generator = PooledRandomNumberGenerator()
        let high = (generator.next() & ~0xF000) | 0x4000  // version 4
        let low = (generator.next() & ~(0xC000 << 48)) | (0x8000 << 48)  // RFC 4122 variant
        return String(unsafeUninitializedCapacity: 36) { out in
            var at = 0
            for nibble in 0..<32 {
                if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 {
                    out[at] = UInt8(ascii: "-")
                    at += 1
                }
                let word = nibble < 16 ? high : low
                let value = UInt8(truncatingIfNeeded: word >> UInt64(60 - (nibble % 16) * 4)) & 0xF
                out[at] = value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
                at += 1
            }
            return at
        }
    }

    /// Upstream's alphabet for generated names: no vowels, no look-alikes.
    private static let nameAlphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    /// The five random characters `generateName` appends.
    static func nameSuffix() -> String {
        var generator = PooledRandomNumberGenerator()
        return String((0..<5).map { _ in nameAlphabet.randomElement(using: &generator) ?? "x" })
    }
}

/// The system's random bits, drawn from a shared buffer refilled from `/dev/urandom` (or, without it, from
/// `SystemRandomNumberGenerator`).
struct PooledRandomNumberGenerator: RandomNumberGenerator {
    private static let pool = NIOLockedValueBox(Pool())

    private struct Pool {
        var words: [UInt64] = []
        var next = 0

        mutating func take() -> UInt64 {
            if next == words.count {
                words = Self.fresh(count: 256)
                next = 0
            }
            defer { next += 1 }
            return words[next]
        }

        static func fresh(count: Int) -> [UInt64] {
            var words = [UInt64](repeating: 0, count: count)
            let filled = words.withUnsafeMutableBytes { buffer -> Bool in
                guard let base = buffer.baseAddress else { return false }
                let file = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
                guard file >= 0 else { return false }
                defer { close(file) }
                var done = 0
                while done < buffer.count {
                    let count = read(file, base + done, buffer.count - done)
                    if count > 0 {
                        done += count
                    } else if count < 0, errno == EINTR {
                        continue
                    } else {
                        return false
                    }
                }
                return true
            }
            if filled { return words }
            var system = SystemRandomNumberGenerator()
            return (0..<count).map { _ in system.next() }
        }
    }

    mutating func next() -> UInt64 { Self.pool.withLockedValue { $0.take() } }
}

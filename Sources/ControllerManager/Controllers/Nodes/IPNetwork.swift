import Foundation

/// An IPv4 or IPv6 network (`10.244.0.0/16`, `fd00::/104`) as Go's `net.ParseCIDR` reads it: the address is
/// masked to the prefix.
struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The network address, right-aligned (an IPv4 address in the low 32 bits).
    let address: UInt128
    let prefixLength: Int
    let isIPv6: Bool

    /// 32 or 128.
    var bits: Int { isIPv6 ? 128 : 32 }

    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
            let prefix = Int(parts[1])
        else { return nil }
        guard let (value, v6) = Self.parseAddress(String(parts[0])), prefix >= 0, prefix <= (v6 ? 128 : 32)
        else { return nil }
        self.init(address: value, prefixLength: prefix, isIPv6: v6)
    }

    init(address: UInt128, prefixLength: Int, isIPv6: Bool) {
        self.isIPv6 = isIPv6
        self.prefixLength = prefixLength
        self.address = address & Self.mask(prefixLength, bits: isIPv6 ? 128 : 32)
    }

    /// The netmask of a `prefix`-bit prefix in a `bits`-bit address.
    static func mask(_ prefix: Int, bits: Int) -> UInt128 {
        let all: UInt128 = bits == 128 ? ~0 : (UInt128(1) << bits) - 1
        guard prefix > 0 else { return 0 }
        return (all << (bits - prefix)) & all
    }

    /// The last address of the network.
    var lastAddress: UInt128 { address | (~Self.mask(prefixLength, bits: bits) & Self.mask(bits, bits: bits)) }

    /// Whether `other` lies inside this network (same family, address within the prefix).
    func contains(_ value: UInt128) -> Bool {
        value & Self.mask(prefixLength, bits: bits) == address
    }

    /// Whether the two networks share any address.
    func overlaps(_ other: IPNetwork) -> Bool {
        guard isIPv6 == other.isIPv6 else { return false }
        return contains(other.address) || other.contains(address)
    }

    var description: String { Self.format(address, isIPv6: isIPv6) + "/\(prefixLength)" }

    /// Parses an address literal to its value and family.
    static func parseAddress(_ text: String) -> (UInt128, Bool)? {
        var v4 = in_addr()
        if !text.contains(":"), inet_pton(AF_INET, text, &v4) == 1 {
            return (UInt128(UInt32(bigEndian: v4.s_addr)), false)
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        guard text.contains(":"), bytes.withUnsafeMutableBytes({ inet_pton(AF_INET6, text, $0.baseAddress) }) == 1
        else { return nil }
        return (bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }, true)
    }

    /// Formats an address as Go prints it (IPv6 in its shortest form).
    static func format(_ value: UInt128, isIPv6: Bool) -> String {
        guard isIPv6 else {
            return [24, 16, 8, 0].map { String((value >> $0) & 0xff) }.joined(separator: ".")
        }
        var bytes = (0..<16).map { UInt8(truncatingIfNeeded: value >> (8 * (15 - $0))) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = bytes.withUnsafeMutableBytes { raw in
            inet_ntop(AF_INET6, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

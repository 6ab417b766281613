import Foundation

/// Parsing of textual IP addresses into the network-order bytes an X.509 iPAddress SAN holds.
///
/// Written by hand rather than with `inet_pton` so the same strict rules (no leading zeros in
/// IPv4 parts, no zones) apply on every platform, matching Go's `net.ParseIP` that kubectl uses.
enum IPAddressBytes {
    /// Returns 4 bytes for IPv4 or 16 bytes for IPv6, or nil when `text` is not an address.
    static func parse(_ text: String) -> [UInt8]? {
        if text.contains(":") {
            return parseIPv6(Substring(text))
        }
        return parseIPv4(Substring(text))
    }

    /// Formats 4 or 16 bytes back into text (IPv6 in RFC 5952 short form).
    static func format(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 {
            return bytes.map(String.init).joined(separator: ".")
        }
        guard bytes.count == 16 else { return bytes.map(String.init).joined(separator: ".") }
        var groups: [UInt16] = []
        for index in stride(from: 0, to: 16, by: 2) {
            groups.append(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]))
        }
        // RFC 5952: compress the longest run (length >= 2) of zero groups, the first one on ties.
        var bestStart = -1
        var bestLength = 0
        var runStart = -1
        for (index, group) in groups.enumerated() {
            if group == 0 {
                if runStart < 0 { runStart = index }
                let length = index - runStart + 1
                if length > bestLength {
                    bestStart = runStart
                    bestLength = length
                }
            } else {
                runStart = -1
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard bestLength >= 2 else { return hex.joined(separator: ":") }
        let head = hex[0..<bestStart].joined(separator: ":")
        let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
        return head + "::" + tail
    }

    private static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                return nil
            }
            // A leading zero would be read as octal by some tools; Go refuses it, so do we.
            if part.count > 1 && part.first == "0" { return nil }
            guard let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    private static func parseIPv6(_ text: Substring) -> [UInt8]? {
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        guard let head = parseGroups(Substring(halves[0]), allowIPv4Tail: halves.count == 1) else {
            return nil
        }
        if halves.count == 1 {
            return head.count == 16 ? head : nil
        }
        guard let tail = parseGroups(Substring(halves[1]), allowIPv4Tail: true) else { return nil }
        // "::" must stand for at least one zero group.
        let missing = 16 - head.count - tail.count
        guard missing >= 2 else { return nil }
        return head + [UInt8](repeating: 0, count: missing) + tail
    }

    /// Parses colon-separated hex groups; the last one may be a dotted IPv4 address.
    private static func parseGroups(_ text: Substring, allowIPv4Tail: Bool) -> [UInt8]? {
        if text.isEmpty { return [] }
        let groups = text.split(separator: ":", omittingEmptySubsequences: false)
        var bytes: [UInt8] = []
        for (index, group) in groups.enumerated() {
            if index == groups.count - 1 && allowIPv4Tail && group.contains(".") {
                guard let v4 = parseIPv4(group) else { return nil }
                bytes += v4
                continue
            }
            guard !group.isEmpty, group.count <= 4, group.allSatisfy(\.isHexDigit),
                let value = UInt16(group, radix: 16)
            else { return nil }
            bytes += [UInt8(value >> 8), UInt8(value & 0xff)]
        }
        return bytes.count <= 16 ? bytes : nil
    }
}

/// Helpers for the service network given to `--service-cluster-ip-range`.
public enum ServiceNetwork {
    /// The first usable address of a CIDR, e.g. `10.254.0.0/16` → `10.254.0.1`.
    ///
    /// Upstream gives this address to the `kubernetes` Service, so the API server's serving
    /// certificate must name it.
    public static func firstAddress(ofCIDR cidr: String) throws -> String {
        let parts = cidr.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let network = IPAddressBytes.parse(String(parts[0])),
            parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let prefix = Int(parts[1]),
            prefix <= network.count * 8
        else { throw PKIError.invalidCIDR(cidr) }
        // Mask host bits so "10.254.3.7/16" still yields 10.254.0.1.
        var bytes = network
        for index in bytes.indices {
            let bitsKept = max(0, min(8, prefix - index * 8))
            let mask: UInt8 = bitsKept == 0 ? 0 : UInt8(truncatingIfNeeded: 0xff << (8 - bitsKept))
            bytes[index] &= mask
        }
        // Add one with carry; a /32 or /128 has no room for a service address.
        guard prefix < network.count * 8 else { throw PKIError.invalidCIDR(cidr) }
        var index = bytes.count - 1
        while index >= 0 {
            let (sum, overflow) = bytes[index].addingReportingOverflow(1)
            bytes[index] = sum
            if !overflow { break }
            index -= 1
        }
        return IPAddressBytes.format(bytes)
    }
}

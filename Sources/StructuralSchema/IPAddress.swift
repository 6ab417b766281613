/// Go's `netutils.ParseIPSloppy` and `ParseCIDRSloppy` (leading zeros in IPv4 octets allowed), which the
/// `ipv4`, `ipv6` and `cidr` formats use.
enum IPAddress {
    /// The address's bytes (4 or 16), or nil.
    static func parse(_ string: String) -> [UInt8]? {
        if !string.contains(":") { return parseV4(Substring(string)) }
        return parseV6(string)
    }

    static func isCIDR(_ string: String) -> Bool {
        let parts = string.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = parse(String(parts[0])), !parts[1].isEmpty, parts[1].count <= 3,
            parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let bits = Int(parts[1])
        else { return false }
        return bits <= address.count * 8
    }

    private static func parseV4(_ string: Substring) -> [UInt8]? {
        let octets = string.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for octet in octets {
            guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = Int(octet), value <= 255
            else { return nil }
            bytes.append(UInt8(value))
        }
        return bytes
    }

    private static func parseV6(_ string: String) -> [UInt8]? {
        let halves = string.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowV4: Bool) -> [UInt8]? {
            if part.isEmpty { return [] }
            var bytes: [UInt8] = []
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, field) in fields.enumerated() {
                if allowV4 && index == fields.count - 1 && field.contains(".") {
                    guard let v4 = parseV4(field) else { return nil }
                    bytes += v4
                    continue
                }
                guard !field.isEmpty, field.count <= 4, field.allSatisfy(\.isHexDigit),
                    let value = UInt16(field, radix: 16)
                else { return nil }
                bytes += [UInt8(value >> 8), UInt8(value & 0xff)]
            }
            return bytes
        }
        if halves.count == 1 {
            guard let bytes = groups(halves[0], allowV4: true), bytes.count == 16 else { return nil }
            return bytes
        }
        guard let head = groups(halves[0], allowV4: false), let tail = groups(halves[1], allowV4: true),
            head.count + tail.count < 16
        else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }
}

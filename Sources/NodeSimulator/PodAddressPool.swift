/// Hands out pod IPs from a node's IPv4 pod CIDR, as a host-local IPAM plugin does: the network and gateway
/// (`.1`) addresses and the broadcast address are never handed out; a released address is reused last.
public struct PodAddressPool: Sendable, Hashable {
    public let cidr: String
    let first: UInt32
    let last: UInt32
    var used: Set<UInt32> = []
    var cursor: UInt32

    /// A pool for `cidr` (`10.64.3.0/24`); nil when it is not an IPv4 CIDR with room for a pod.
    public init?(cidr: String) {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let base = Self.parse(String(parts[0])), let length = Int(parts[1]),
            (8...30).contains(length)
        else { return nil }
        self.init(base: base, prefixLength: length)
    }

    /// A pool for the network holding `base` with `prefixLength` bits (8 to 30).
    init(base: UInt32, prefixLength: Int) {
        let size = UInt32(1) << UInt32(32 - prefixLength)
        let network = base & ~(size - 1)
        cidr = "\(Self.format(network))/\(prefixLength)"
        first = network + 2
        last = network + size - 2
        cursor = first
    }

    /// The number of addresses the pool can hand out.
    public var capacity: Int { Int(last - first) + 1 }

    /// A free address, or nil when all are taken.
    public mutating func allocate() -> String? {
        guard used.count < capacity else { return nil }
        while used.contains(cursor) { cursor = cursor >= last ? first : cursor + 1 }
        let address = cursor
        used.insert(address)
        cursor = cursor >= last ? first : cursor + 1
        return Self.format(address)
    }

    /// Marks `address` taken (a pod that already had it); false when it is outside the pool.
    @discardableResult
    public mutating func reserve(_ address: String) -> Bool {
        guard let value = Self.parse(address), value >= first, value <= last else { return false }
        used.insert(value)
        return true
    }

    public mutating func release(_ address: String) {
        if let value = Self.parse(address) { used.remove(value) }
    }

    static func parse(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard let byte = UInt8(octet) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    static func format(_ value: UInt32) -> String {
        "\(value >> 24).\((value >> 16) & 255).\((value >> 8) & 255).\(value & 255)"
    }
}

/// The made-up addresses of simulated node `index`: an InternalIP in 10.32.0.0/11 and its own /24 pod range in
/// 10.64.0.0/10, used until a controller sets the Node's `spec.podCIDR`. They are data only; nothing connects.
public enum SimulatedNetwork {
    /// How many nodes the ranges number uniquely.
    public static let maximumNodes = 16_384

    public static func internalIP(index: Int) -> String {
        PodAddressPool.format((UInt32(10) << 24 | UInt32(32) << 16) + UInt32(index) + 1)
    }

    public static func podCIDR(index: Int) -> String { podAddresses(index: index).cidr }

    /// The pool of the node's own pod range.
    static func podAddresses(index: Int) -> PodAddressPool {
        PodAddressPool(
            base: UInt32(10) << 24 | UInt32(64 + index / 256) << 16 | UInt32(index % 256) << 8, prefixLength: 24)
    }
}

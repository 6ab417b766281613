public import APIMachinery
public import Storage

/// An IPv4 CIDR such as `10.254.0.0/16`.
public struct IPv4Range: Sendable, Equatable, CustomStringConvertible {
    public var base: UInt32
    public var prefixLength: Int

    public init?(cidr: String) {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let length = Int(parts[1]), (1...30).contains(length),
            let address = IPv4Range.parse(String(parts[0]))
        else { return nil }
        let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << UInt32(32 - length)
        base = address & mask
        prefixLength = length
    }

    public static func parse(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard let byte = UInt8(octet), String(byte) == octet else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    public static func format(_ value: UInt32) -> String {
        "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
    }

    /// Usable addresses: the network and broadcast addresses are excluded.
    public var size: UInt32 { (UInt32(1) << UInt32(32 - prefixLength)) - 2 }
    public var first: UInt32 { base + 1 }
    public func contains(_ address: UInt32) -> Bool { address >= first && address < first + size }
    public var description: String { "\(IPv4Range.format(base))/\(prefixLength)" }
}

/// Hands out Service cluster IPs. Each taken address is a key created if absent in storage, so two
/// creates (on one API server or several) can never get the same IP, and restarts keep what is taken.
public struct ServiceIPAllocator: Sendable {
    public let range: IPv4Range
    let storage: any KeyValueStore
    let folder: String

    public init(range: IPv4Range, storage: any KeyValueStore, storagePrefix: String) {
        self.range = range
        self.storage = storage
        self.folder = storagePrefix + "/ranges/serviceips/"
    }

    /// The first address, which belongs to the `kubernetes` Service.
    public var kubernetesServiceIP: String { IPv4Range.format(range.first) }

    /// Takes a specific address or throws upstream's Invalid message.
    func allocate(_ text: String, dryRun: Bool) async throws -> String {
        guard let address = IPv4Range.parse(text) else {
            throw FieldError.invalid(
                "spec.clusterIPs", .string(text), "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
        }
        guard range.contains(address) else {
            throw FieldError.invalid(
                "spec.clusterIPs", .string(text),
                "failed to allocate IP \(text): the provided IP (\(text)) is not in the valid range. The range of valid IPs is \(range)"
            )
        }
        if dryRun {
            if try await storage.get(key: folder + text) != nil { throw Self.taken(text) }
            return text
        }
        do {
            _ = try await storage.create(key: folder + text, value: [], lease: 0)
        } catch StorageError.keyExists {
            throw Self.taken(text)
        }
        return text
    }

    static func taken(_ text: String) -> FieldError {
        .invalid("spec.clusterIPs", .string(text), "failed to allocate IP \(text): provided IP is already allocated")
    }

    /// Takes a free address, starting at a random point so concurrent creates rarely collide.
    func allocateNext(dryRun: Bool) async throws -> String {
        let size = range.size
        // The first address is reserved for the kubernetes Service, which asks for it by name.
        let start = UInt32.random(in: 1..<max(size, 2))
        for step in 0..<size {
            let offset = (start + step) % size
            if offset == 0 { continue }
            let text = IPv4Range.format(range.first + offset)
            if dryRun {
                if try await storage.get(key: folder + text) == nil { return text }
                continue
            }
            do {
                _ = try await storage.create(key: folder + text, value: [], lease: 0)
                return text
            } catch StorageError.keyExists {
                continue
            }
        }
        throw APIError(
            code: 500, reason: .internalError,
            message: "Internal error occurred: failed to allocate a serviceIP: range is full")
    }

    func release(_ text: String) async {
        _ = try? await storage.delete(key: folder + text, expectedRevision: nil)
    }
}

/// Hands out NodePorts from `--service-node-port-range` the same way as `ServiceIPAllocator`.
public struct NodePortAllocator: Sendable {
    public let range: ClosedRange<Int>
    let storage: any KeyValueStore
    let folder: String

    public init(range: ClosedRange<Int>, storage: any KeyValueStore, storagePrefix: String) {
        self.range = range
        self.storage = storage
        self.folder = storagePrefix + "/ranges/servicenodeports/"
    }

    func allocate(_ port: Int, field: String, dryRun: Bool) async throws {
        guard range.contains(port) else {
            throw FieldError.invalid(
                field, .int(Int64(port)),
                "provided port is not in the valid range. The range of valid ports is \(range.lowerBound)-\(range.upperBound)"
            )
        }
        if dryRun { return }
        do {
            _ = try await storage.create(key: folder + String(port), value: [], lease: 0)
        } catch StorageError.keyExists {
            throw FieldError.invalid(field, .int(Int64(port)), "provided port is already allocated")
        }
    }

    func allocateNext(field: String, dryRun: Bool) async throws -> Int {
        let size = range.count
        let start = Int.random(in: 0..<size)
        for step in 0..<size {
            let port = range.lowerBound + (start + step) % size
            if dryRun { return port }
            do {
                _ = try await storage.create(key: folder + String(port), value: [], lease: 0)
                return port
            } catch StorageError.keyExists {
                continue
            }
        }
        throw APIError(code: 500, reason: .internalError, message: "Internal error occurred: range is full")
    }

    func release(_ port: Int) async {
        _ = try? await storage.delete(key: folder + String(port), expectedRevision: nil)
    }
}

extension FieldError: Error {}

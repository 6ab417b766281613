import APIMachinery
import Storage

/// Upstream's master leases: each API server keeps the key `<prefix>/masterleases/<advertise address>` alive
/// on a storage lease, so a server that stops renewing (killed, cut off) drops out when its lease expires.
/// Storage leases work alike on etcd and the embedded stores, so servers sharing an etcd see each other.
actor MasterLeases {
    let storage: any KeyValueStore
    /// `<prefix>/masterleases/`.
    let keyPrefix: String
    let ttlSeconds: Int64
    /// The storage lease this server's key hangs on; 0 before the first renewal.
    private var lease: LeaseID = 0

    init(storage: any KeyValueStore, storagePrefix: String, ttlSeconds: Int64) {
        self.storage = storage
        self.keyPrefix = storagePrefix + "/masterleases/"
        self.ttlSeconds = ttlSeconds
    }

    /// Restarts this server's TTL, writing its key again if it expired or was removed meanwhile.
    func renew(_ address: String) async throws {
        if lease != 0 {
            do {
                try await storage.keepAlive(lease: lease)
            } catch StorageError.leaseNotFound {
                lease = 0
            }
        }
        if lease == 0 { lease = try await storage.grantLease(ttlSeconds: ttlSeconds) }
        let key = keyPrefix + address
        let value = Self.value(address)
        if let current = try await storage.get(key: key) {
            guard current.lease != lease || current.value != value else { return }
            _ = try await storage.update(key: key, value: value, expectedRevision: current.modRevision, lease: lease)
        } else {
            _ = try await storage.create(key: key, value: value, lease: lease)
        }
    }

    /// Removes this server's key at once, as a graceful shutdown does, and gives up its lease.
    func remove(_ address: String) async throws {
        _ = try? await storage.delete(key: keyPrefix + address, expectedRevision: nil)
        if lease != 0 {
            try? await storage.revokeLease(lease)
            lease = 0
        }
    }

    /// The addresses whose keys are alive now, in order.
    func addresses() async throws -> [String] {
        let range = try await storage.range(
            start: keyPrefix, end: RegistryStore.prefixEnd(keyPrefix), limit: 0, revision: nil)
        return range.items.map { String($0.key.dropFirst(keyPrefix.count)) }.filter { !$0.isEmpty }.sorted()
    }

    /// What the key holds: an Endpoints object naming the address, as upstream stores it, so an operator
    /// reading etcd sees who holds each lease.
    static func value(_ address: String) -> [UInt8] {
        let object: JSON = [
            "kind": "Endpoints", "apiVersion": "v1", "metadata": ["name": .string(address)],
            "subsets": [["addresses": [["ip": .string(address)]]]],
        ]
        return object.encoded()
    }
}

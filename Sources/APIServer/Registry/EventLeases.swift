public import Storage

/// Storage leases for `--event-ttl`, shared the way upstream's etcd3 lease manager shares them: a lease
/// is granted with a little extra time (5% of the TTL, at most a minute) and reused for every event
/// written while its expiry stays within that window, up to 1,000 events per lease. One lease per event
/// would cost a grant per write and leave the store tracking as many leases as events.
public actor EventLeaseManager {
    let storage: any KeyValueStore
    /// `--event-ttl`, whole seconds (storage leases count in seconds).
    public nonisolated let ttlSeconds: Int64
    nonisolated let reuseSeconds: Int64
    let maxObjectsPerLease: Int
    private var previous: (id: LeaseID, expiry: ContinuousClock.Instant)?
    private var attached = 0
    private var granting: Task<LeaseID, any Error>?

    public init(storage: any KeyValueStore, ttl: Duration, maxObjectsPerLease: Int = 1000) {
        self.storage = storage
        ttlSeconds = max(1, ttl.components.seconds)
        reuseSeconds = min(Int64(0.05 * Double(ttlSeconds)), 60)
        self.maxObjectsPerLease = maxObjectsPerLease
    }

    /// A lease that expires between `ttl` and `ttl` plus the reuse window from now.
    public func lease() async throws -> LeaseID {
        let now = ContinuousClock.now
        if let previous, now + .seconds(ttlSeconds) < previous.expiry,
            now + .seconds(ttlSeconds + reuseSeconds) > previous.expiry, attached < maxObjectsPerLease
        {
            attached += 1
            return previous.id
        }
        if let granting {
            // A grant is under way for a concurrent write; share it rather than grant twice.
            let id = try await granting.value
            attached += 1
            return id
        }
        let ttl = ttlSeconds + reuseSeconds
        let grant = Task<LeaseID, any Error> {
            defer { granting = nil }
            let id = try await storage.grantLease(ttlSeconds: ttl)
            previous = (id, now + .seconds(ttl))
            attached = 0
            return id
        }
        granting = grant
        let id = try await grant.value
        attached += 1
        return id
    }
}

extension RegistryStore {
    /// The lease a create or update writes with: a fresh event-TTL lease for events (upstream's event
    /// store renews the TTL on every write), `current` for everything else.
    func writeLease(keeping current: LeaseID) async throws -> LeaseID {
        guard strategy.expiresWithEventTTL, let leases = context.eventLeases else { return current }
        return try await leases.lease()
    }
}

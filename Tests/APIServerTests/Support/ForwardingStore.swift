import Storage

/// A MemoryStore behind a class whose methods tests override to watch or hold up particular calls.
class ForwardingStore: KeyValueStore, @unchecked Sendable {
    let base = MemoryStore()

    func currentRevision() async throws -> Revision { try await base.currentRevision() }
    func create(key: String, value: [UInt8], lease: LeaseID) async throws -> KeyValue {
        try await base.create(key: key, value: value, lease: lease)
    }
    func update(key: String, value: [UInt8], expectedRevision: Revision?, lease: LeaseID) async throws -> KeyValue {
        try await base.update(key: key, value: value, expectedRevision: expectedRevision, lease: lease)
    }
    func delete(key: String, expectedRevision: Revision?) async throws -> (deleted: KeyValue, revision: Revision) {
        try await base.delete(key: key, expectedRevision: expectedRevision)
    }
    func get(key: String) async throws -> KeyValue? { try await base.get(key: key) }
    func range(start: String, end: String?, limit: Int, revision: Revision?) async throws -> RangeResult {
        try await base.range(start: start, end: end, limit: limit, revision: revision)
    }
    func watch(start: String, end: String?, afterRevision: Revision, progressNotify: Bool)
        -> AsyncThrowingStream<WatchUpdate, any Error>
    {
        base.watch(start: start, end: end, afterRevision: afterRevision, progressNotify: progressNotify)
    }
    func grantLease(ttlSeconds: Int64) async throws -> LeaseID { try await base.grantLease(ttlSeconds: ttlSeconds) }
    func keepAlive(lease: LeaseID) async throws { try await base.keepAlive(lease: lease) }
    func revokeLease(_ lease: LeaseID) async throws { try await base.revokeLease(lease) }
    func compact(revision: Revision) async throws { try await base.compact(revision: revision) }
}

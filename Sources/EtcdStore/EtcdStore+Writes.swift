import Foundation
public import Storage

/// Writes as etcd transactions. Each one compares the key's create or mod revision, so a write that
/// is retried after its answer was lost (the member died after applying it) cannot apply twice: the
/// repetition's compare fails, and the key's current state (the transaction's failure branch, or for a
/// create a read after it) tells whether the first attempt landed (our value at a newer revision) or
/// someone else won.
/// Unconditional updates and deletes read the key first and then compare, for the same reason.
extension EtcdStore {
    public func create(key: String, value: [UInt8], lease: LeaseID) async throws -> KeyValue {
        var txn = Etcdserverpb_TxnRequest()
        txn.compare = [Self.compare(key, .create, equalTo: 0)]
        txn.success = [Self.put(key, value, lease: lease, previous: false)]
        // No failure branch: only a retried create asks what is there, so the common create sends no range.
        let (response, retried) = try await transaction(txn, lease: lease)
        if response.succeeded {
            let revision = response.header.revision
            return KeyValue(key: key, value: value, createRevision: revision, modRevision: revision, lease: lease)
        }
        if retried, let current = try await get(key: key), current.value == value, current.lease == lease,
            current.createRevision == current.modRevision
        {
            return current  // our first attempt created it
        }
        throw StorageError.keyExists(key: key)
    }

    public func update(key: String, value: [UInt8], expectedRevision: Revision?, lease: LeaseID) async throws
        -> KeyValue
    {
        guard let expectedRevision else {
            while true {
                guard let current = try await get(key: key) else { throw StorageError.keyNotFound(key: key) }
                do {
                    return try await update(key: key, value: value, expectedRevision: current.modRevision, lease: lease)
                } catch StorageError.conflict {
                    continue
                }
            }
        }
        var txn = Etcdserverpb_TxnRequest()
        txn.compare = [Self.compare(key, .mod, equalTo: expectedRevision)]
        txn.success = [Self.put(key, value, lease: lease, previous: true)]
        txn.failure = [Self.get(key)]
        let (response, retried) = try await transaction(txn, lease: lease)
        if response.succeeded {
            let previous = response.responses.first?.responsePut.prevKv
            return KeyValue(
                key: key, value: value, createRevision: previous?.createRevision ?? 0,
                modRevision: response.header.revision, lease: lease)
        }
        guard let current = Self.rangeResult(response) else { throw StorageError.keyNotFound(key: key) }
        if retried, current.value == value, current.lease == lease, current.modRevision > expectedRevision {
            return current  // our first attempt replaced it
        }
        throw StorageError.conflict(current: current)
    }

    public func delete(key: String, expectedRevision: Revision?) async throws -> (deleted: KeyValue, revision: Revision)
    {
        guard let expectedRevision else {
            while true {
                guard let current = try await get(key: key) else { throw StorageError.keyNotFound(key: key) }
                do { return try await delete(key: key, expectedRevision: current.modRevision) } catch StorageError
                    .conflict
                {
                    continue
                }
            }
        }
        var txn = Etcdserverpb_TxnRequest()
        txn.compare = [Self.compare(key, .mod, equalTo: expectedRevision)]
        var deleteRange = Etcdserverpb_DeleteRangeRequest()
        deleteRange.key = Data(key.utf8)
        deleteRange.prevKv = true
        var operation = Etcdserverpb_RequestOp()
        operation.requestDeleteRange = deleteRange
        txn.success = [operation]
        txn.failure = [Self.get(key)]
        let (response, retried) = try await transaction(txn, lease: 0)
        if response.succeeded, let deleted = response.responses.first?.responseDeleteRange.prevKvs.first {
            return (KeyValue(deleted), response.header.revision)
        }
        let current = Self.rangeResult(response)
        if retried, current == nil || current!.createRevision > expectedRevision,
            let landed = try await deletion(of: key, after: expectedRevision)
        {
            return landed  // our first attempt deleted it
        }
        guard let current else { throw StorageError.keyNotFound(key: key) }
        throw StorageError.conflict(current: current)
    }

    /// Finds the delete that ended the key's version written at `revision`, from the watch history.
    private func deletion(of key: String, after revision: Revision) async throws -> (KeyValue, Revision)? {
        var create = Etcdserverpb_WatchCreateRequest()
        create.key = Data(key.utf8)
        create.startRevision = revision + 1
        create.filters = [.noput]
        create.prevKv = true
        var request = Etcdserverpb_WatchRequest()
        request.createRequest = create
        let response: Etcdserverpb_WatchResponse
        do {
            response = try await client.firstResponse(EtcdWatchStream.path, request) {
                !$0.events.isEmpty || $0.canceled
            }
        } catch {
            throw StorageError.unavailable(error.description)
        }
        guard let event = response.events.first, event.hasPrevKv, event.prevKv.modRevision == revision else {
            return nil
        }
        return (KeyValue(event.prevKv), event.kv.modRevision)
    }

    /// Runs a write transaction, retrying across members; also says whether an earlier attempt may have landed.
    private func transaction(_ txn: Etcdserverpb_TxnRequest, lease: LeaseID) async throws -> (
        Etcdserverpb_TxnResponse, Bool
    ) {
        do {
            let outcome: EtcdClient.Outcome<Etcdserverpb_TxnResponse> = try await client.call(
                Method.txn, txn, mayRetryAfterSend: true)
            return (outcome.response, outcome.earlierAttemptMayHaveLanded)
        } catch {
            throw await storageError(error, revision: 0, lease: lease)
        }
    }

    private static func compare(_ key: String, _ target: Etcdserverpb_Compare.CompareTarget, equalTo value: Int64)
        -> Etcdserverpb_Compare
    {
        var compare = Etcdserverpb_Compare()
        compare.key = Data(key.utf8)
        compare.target = target
        compare.result = .equal
        switch target {
        case .create: compare.createRevision = value
        default: compare.modRevision = value
        }
        return compare
    }

    private static func put(_ key: String, _ value: [UInt8], lease: LeaseID, previous: Bool) -> Etcdserverpb_RequestOp {
        var put = Etcdserverpb_PutRequest()
        put.key = Data(key.utf8)
        put.value = Data(value)
        put.lease = lease
        put.prevKv = previous
        var operation = Etcdserverpb_RequestOp()
        operation.requestPut = put
        return operation
    }

    private static func get(_ key: String) -> Etcdserverpb_RequestOp {
        var range = Etcdserverpb_RangeRequest()
        range.key = Data(key.utf8)
        var operation = Etcdserverpb_RequestOp()
        operation.requestRange = range
        return operation
    }

    /// The key read by the failure branch, if it exists.
    private static func rangeResult(_ response: Etcdserverpb_TxnResponse) -> KeyValue? {
        response.responses.first?.responseRange.kvs.first.map(KeyValue.init)
    }
}

/// Leases: etcd's own, so keys attached to one expire on every API server at once.
extension EtcdStore {
    public func grantLease(ttlSeconds: Int64) async throws -> LeaseID {
        var request = Etcdserverpb_LeaseGrantRequest()
        request.ttl = max(ttlSeconds, 1)
        let response: Etcdserverpb_LeaseGrantResponse = try await read(Method.leaseGrant, request)
        guard response.error.isEmpty else { throw StorageError.unavailable(response.error) }
        return response.id
    }

    public func keepAlive(lease: LeaseID) async throws {
        guard lease != 0 else { throw StorageError.leaseNotFound(0) }
        var request = Etcdserverpb_LeaseKeepAliveRequest()
        request.id = lease
        let response: Etcdserverpb_LeaseKeepAliveResponse
        do {
            response = try await client.firstResponse(Method.leaseKeepAlive, request) { _ in true }
        } catch {
            throw await storageError(error, revision: 0, lease: lease)
        }
        // etcd answers a keep-alive of an expired or unknown lease with a TTL of 0 or less.
        guard response.ttl > 0 else { throw StorageError.leaseNotFound(lease) }
    }

    public func revokeLease(_ lease: LeaseID) async throws {
        guard lease != 0 else { throw StorageError.leaseNotFound(0) }
        var request = Etcdserverpb_LeaseRevokeRequest()
        request.id = lease
        do {
            let _: EtcdClient.Outcome<Etcdserverpb_LeaseRevokeResponse> = try await client.call(
                Method.leaseRevoke, request, mayRetryAfterSend: true)
        } catch {
            throw await storageError(error, revision: 0, lease: lease)
        }
    }
}

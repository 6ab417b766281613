import Foundation
public import Logging
public import NIOCore
public import NIOPosix
public import Storage
import SwiftProtobuf

/// A `KeyValueStore` on an etcd v3 cluster: keys and values are stored as given (the API server
/// passes upstream's `/registry/...` keys and the objects' JSON), so several API servers, and etcdctl,
/// see the same data. Writes are transactions that compare the key's revision; reads are linearizable.
public final class EtcdStore: KeyValueStore {
    let client: EtcdClient
    private let watches: EtcdWatchStream

    public init(
        configuration: EtcdConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "etcd")
    ) throws {
        client = try EtcdClient(configuration: configuration, group: group, logger: logger)
        watches = EtcdWatchStream(client: client)
    }

    /// Ends watches and closes the connection.
    public func close() {
        watches.close()
        client.close()
    }

    deinit { close() }

    enum Method {
        static let range = "/etcdserverpb.KV/Range"
        static let txn = "/etcdserverpb.KV/Txn"
        static let compact = "/etcdserverpb.KV/Compact"
        static let leaseGrant = "/etcdserverpb.Lease/LeaseGrant"
        static let leaseRevoke = "/etcdserverpb.Lease/LeaseRevoke"
        static let leaseKeepAlive = "/etcdserverpb.Lease/LeaseKeepAlive"
        static let status = "/etcdserverpb.Maintenance/Status"
    }

    public func currentRevision() async throws -> Revision {
        // A linearizable read of one (absent) key: its header carries the cluster's revision.
        var request = Etcdserverpb_RangeRequest()
        request.key = Data([0])
        request.countOnly = true
        let response: Etcdserverpb_RangeResponse = try await read(Method.range, request)
        return response.header.revision
    }

    /// A quick health probe for /readyz and /livez: one read with a short deadline, no retries.
    public func checkHealth(timeout: TimeAmount = .seconds(2)) async -> Bool {
        var request = Etcdserverpb_RangeRequest()
        request.key = Data([0])
        request.countOnly = true
        let outcome: EtcdClient.Outcome<Etcdserverpb_RangeResponse>? = try? await client.call(
            Method.range, request, mayRetryAfterSend: true, timeout: timeout, retry: false)
        return outcome != nil
    }

    public func get(key: String) async throws -> KeyValue? {
        var request = Etcdserverpb_RangeRequest()
        request.key = Data(key.utf8)
        let response: Etcdserverpb_RangeResponse = try await read(Method.range, request)
        return response.kvs.first.map(KeyValue.init)
    }

    public func range(start: String, end: String?, limit: Int, revision: Revision?) async throws -> RangeResult {
        var request = Etcdserverpb_RangeRequest()
        request.key = Self.rangeStart(start)
        if let end, !end.isEmpty { request.rangeEnd = Data(end.utf8) }
        request.limit = Int64(limit)
        request.revision = revision ?? 0
        let response: Etcdserverpb_RangeResponse
        do {
            response = try await client.call(Method.range, request, mayRetryAfterSend: true).response
        } catch {
            throw await storageError(error, revision: revision ?? 0)
        }
        let asked = revision ?? 0
        return RangeResult(
            items: response.kvs.map(KeyValue.init), more: response.more,
            revision: asked > 0 ? asked : response.header.revision)
    }

    public func watch(start: String, end: String?, afterRevision: Revision, progressNotify: Bool)
        -> AsyncThrowingStream<WatchUpdate, any Error>
    {
        watches.watch(start: start, end: end, afterRevision: afterRevision, progressNotify: progressNotify)
    }

    public func compact(revision: Revision) async throws {
        var request = Etcdserverpb_CompactionRequest()
        request.revision = revision
        do {
            let _: EtcdClient.Outcome<Etcdserverpb_CompactionResponse> = try await client.call(
                Method.compact, request, mayRetryAfterSend: true)
        } catch {
            throw await storageError(error, revision: revision)
        }
    }

    /// etcd has no empty key and rejects it as a range start; "\0" is the smallest key it allows.
    static func rangeStart(_ start: String) -> Data { start.isEmpty ? Data([0]) : Data(start.utf8) }

    /// Reads with retries; every failure becomes a `StorageError`.
    func read<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(_ method: String, _ request: Request)
        async throws -> Response
    {
        do { return try await client.call(method, request, mayRetryAfterSend: true).response } catch {
            throw await storageError(error, revision: 0)
        }
    }

    /// Maps etcd's errors (by their messages, as etcd's Go client does) to `StorageError`.
    func storageError(_ error: GRPCStatusError, revision: Revision, lease: LeaseID = 0) async -> StorageError {
        switch error.message {
        case "etcdserver: mvcc: required revision has been compacted":
            guard let compactedAt = try? await compactRevision(below: revision) else {
                return .unavailable(error.message)
            }
            return .compacted(requested: revision, compactedAt: compactedAt)
        case "etcdserver: mvcc: required revision is a future revision":
            guard let current = try? await currentRevision() else { return .unavailable(error.message) }
            return .futureRevision(requested: revision, current: current)
        case "etcdserver: requested lease not found":
            return .leaseNotFound(lease)
        default:
            return .unavailable(error.description)
        }
    }

    /// The revision of the last compaction, known to be at least `revision`. etcd reports it only to
    /// a watch that starts below it, so a watch that filters out every event asks once and is closed.
    func compactRevision(below revision: Revision) async throws(GRPCStatusError) -> Revision {
        var create = Etcdserverpb_WatchCreateRequest()
        create.key = Data([0])
        create.startRevision = max(revision - 1, 1)
        create.filters = [.noput, .nodelete]
        var request = Etcdserverpb_WatchRequest()
        request.createRequest = create
        let response: Etcdserverpb_WatchResponse = try await client.firstResponse(EtcdWatchStream.path, request) {
            $0.compactRevision > 0 || ($0.canceled && !$0.created)
        }
        guard response.compactRevision > 0 else {
            throw GRPCStatusError(code: .internal, message: "no compact revision: \(response.cancelReason)")
        }
        return response.compactRevision
    }
}

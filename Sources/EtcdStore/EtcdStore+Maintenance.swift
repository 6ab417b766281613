public import Foundation
import NIOConcurrencyHelpers
public import NIOCore

/// What one etcd member says of itself and the cluster (etcd's Maintenance/Status, as `etcdctl endpoint status`).
public struct EtcdMemberStatus: Sendable, Hashable {
    /// The answering member's ID.
    public var memberID: UInt64
    /// The member it takes for the leader; 0 when it knows none.
    public var leaderID: UInt64
    public var clusterID: UInt64
    /// etcd's version, e.g. `3.4.23`.
    public var version: String
    /// The backend database's size on disk, in bytes.
    public var databaseSize: Int64
    public var raftTerm: UInt64
    public var raftIndex: UInt64
    /// The key-value store's revision.
    public var revision: Int64
    /// Alarms and errors the member reports (e.g. `NOSPACE`).
    public var errors: [String]

    /// True when the member is the leader.
    public var isLeader: Bool { leaderID != 0 && memberID == leaderID }
}

extension EtcdStore {
    /// Maintenance/Status of the member the client is connected to: one attempt within `timeout`, no retry, so a
    /// store configured with one endpoint reports on exactly that member.
    public func memberStatus(timeout: TimeAmount = .seconds(2)) async throws -> EtcdMemberStatus {
        let outcome: EtcdClient.Outcome<Etcdserverpb_StatusResponse> = try await client.call(
            Method.status, Etcdserverpb_StatusRequest(), mayRetryAfterSend: true, timeout: timeout, retry: false)
        let response = outcome.response
        return EtcdMemberStatus(
            memberID: response.header.memberID, leaderID: response.leader, clusterID: response.header.clusterID,
            version: response.version, databaseSize: response.dbSize, raftTerm: response.raftTerm,
            raftIndex: response.raftIndex, revision: response.header.revision, errors: response.errors)
    }

    /// Streams the connected member's backend database (Maintenance/Snapshot) into `handle`, as `etcdctl snapshot
    /// save` does: the database's bytes followed by etcd's SHA-256 of them, which `etcdctl snapshot restore`
    /// checks. Returns the bytes written. No deadline: a large database takes as long as it takes.
    public func snapshot(into handle: FileHandle) async throws -> Int {
        let connection = try await client.connection()
        let (messages, continuation) = AsyncThrowingStream.makeStream(of: ByteBuffer.self)
        let observer = StreamObserver(continuation)
        // An empty SnapshotRequest: zero bytes of protobuf.
        let stream = connection.openCall(
            path: Method.snapshot, unary: true, timeout: nil, firstMessage: ByteBuffer(), observer: observer)
        var written = 0
        do {
            for try await message in messages {
                let chunk = try SnapshotChunk(message)
                if !chunk.blob.isEmpty {
                    try handle.write(contentsOf: chunk.blob)
                    written += chunk.blob.count
                }
            }
        } catch {
            stream.cancel()
            throw error
        }
        return written
    }
}

extension EtcdStore.Method {
    static let snapshot = "/etcdserverpb.Maintenance/Snapshot"
}

/// Passes every message of a server-streaming call on, then the call's end.
private final class StreamObserver: GRPCCallObserver {
    private let continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation

    init(_ continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation) { self.continuation = continuation }

    func received(_ message: ByteBuffer) { continuation.yield(message) }

    func finished(_ error: GRPCStatusError?) { continuation.finish(throwing: error) }
}

/// etcd's SnapshotResponse, read by hand (it is not among the generated messages): `header` (1),
/// `remaining_bytes` (2), `blob` (3) and, from etcd 3.5, `version` (4). Only the blob matters here.
struct SnapshotChunk {
    var blob: [UInt8] = []
    var remainingBytes: UInt64 = 0

    init(_ message: ByteBuffer) throws(GRPCStatusError) {
        var buffer = message
        while buffer.readableBytes > 0 {
            let key = try Self.varint(&buffer)
            switch (key >> 3, key & 7) {
            case (2, 0): remainingBytes = try Self.varint(&buffer)
            case (3, 2): blob = try Self.bytes(&buffer)
            case (_, 0): _ = try Self.varint(&buffer)
            case (_, 2): _ = try Self.bytes(&buffer)
            case (_, 1): guard buffer.readSlice(length: 8) != nil else { throw Self.malformed }
            case (_, 5): guard buffer.readSlice(length: 4) != nil else { throw Self.malformed }
            default: throw Self.malformed
            }
        }
    }

    static let malformed = GRPCStatusError(code: .internal, message: "malformed SnapshotResponse")

    static func varint(_ buffer: inout ByteBuffer) throws(GRPCStatusError) -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: UInt64(0), to: 64, by: 7) {
            guard let byte = buffer.readInteger(as: UInt8.self) else { throw malformed }
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
        }
        throw malformed
    }

    static func bytes(_ buffer: inout ByteBuffer) throws(GRPCStatusError) -> [UInt8] {
        let length = try varint(&buffer)
        guard length <= UInt64(buffer.readableBytes), let bytes = buffer.readBytes(length: Int(length)) else {
            throw malformed
        }
        return bytes
    }
}

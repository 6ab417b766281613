import Foundation
public import Storage

/// Periodic compaction shared by every API server on one etcd, as upstream's compactor
/// (k8s.io/apiserver/pkg/storage/etcd3/compact.go) does it: the `compact_rev_key` key holds the last
/// compacted revision, and its version counts compaction rounds. Each server remembers the version it
/// saw and the cluster's revision one interval ago; the server whose compare on that version succeeds
/// bumps it and compacts, the others learn the new version and wait. So one server compacts per
/// interval, and history is kept for at least one interval.
extension EtcdStore {
    /// The key upstream uses, outside `--etcd-prefix`, so upstream and KubeSwift servers share it.
    public static let compactRevisionKey = "compact_rev_key"

    /// One round: returns the version of `compact_rev_key` and the cluster's revision for the next round.
    public func compactRound(lastVersion: Int64, revisionToCompact: Revision) async throws -> (
        version: Int64, revision: Revision
    ) {
        var compare = Etcdserverpb_Compare()
        compare.key = Data(Self.compactRevisionKey.utf8)
        compare.target = .version
        compare.result = .equal
        compare.version = lastVersion
        var put = Etcdserverpb_PutRequest()
        put.key = Data(Self.compactRevisionKey.utf8)
        put.value = Data(String(revisionToCompact).utf8)
        var success = Etcdserverpb_RequestOp()
        success.requestPut = put
        var get = Etcdserverpb_RangeRequest()
        get.key = Data(Self.compactRevisionKey.utf8)
        var failure = Etcdserverpb_RequestOp()
        failure.requestRange = get
        var txn = Etcdserverpb_TxnRequest()
        txn.compare = [compare]
        txn.success = [success]
        txn.failure = [failure]
        let response: Etcdserverpb_TxnResponse = try await read(Method.txn, txn)
        let current = response.header.revision
        guard response.succeeded else {
            return (response.responses.first?.responseRange.kvs.first?.version ?? 0, current)
        }
        if revisionToCompact > 0 {
            do { try await compact(revision: revisionToCompact) } catch StorageError.compacted {
                // Someone compacted further by hand; nothing left to do this round.
            }
            client.logger.debug("etcd: compacted rev (\(revisionToCompact))")
        }
        return (lastVersion + 1, current)
    }

    /// Runs `compactRound` every `interval` until the task is cancelled; 0 disables compaction, as upstream.
    public func runCompactor(every interval: Duration) async {
        guard interval > .zero else { return }
        var version: Int64 = 0
        var revision: Revision = 0
        while !Task.isCancelled {
            do {
                (version, revision) = try await compactRound(lastVersion: version, revisionToCompact: revision)
            } catch {
                client.logger.warning("etcd: compaction failed: \(error)")
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }
}

import Foundation
import Storage
import Testing

@Suite("SQLiteStore") struct SQLiteStoreTests {
    @Test func reopeningKeepsDataRevisionsCompactionAndLeases() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("nested/dir/store.sqlite")
        let (lease, last, r2): (LeaseID, Revision, Revision)
        do {
            let store = try SQLiteStore(path: path)
            _ = try await store.create(key: "a", value: bytes("a1"), lease: 0)
            r2 = try await store.update(key: "a", value: bytes("a2"), expectedRevision: nil, lease: 0).modRevision
            _ = try await store.create(key: "b", value: bytes("b1"), lease: 0)
            try await store.compact(revision: r2)
            lease = try await store.grantLease(ttlSeconds: 60)
            _ = try await store.create(key: "leased", value: [], lease: lease)
            last = try await store.delete(key: "b", expectedRevision: nil).revision
            try store.close()
        }
        let store = try SQLiteStore(path: path)
        defer { try? store.close() }
        #expect(try await store.currentRevision() == last)
        #expect(try await store.get(key: "a")?.value == bytes("a2"))
        #expect(try await store.get(key: "b") == nil)
        await expectError(.compacted(requested: r2 - 1, compactedAt: r2)) {
            try await store.range(start: "", end: "\u{0}", limit: 0, revision: r2 - 1)
        }
        let past = try await store.range(start: "", end: "\u{0}", limit: 0, revision: last - 1)
        #expect(past.items.map(\.key) == ["a", "b", "leased"])
        #expect(try await store.create(key: "c", value: [], lease: 0).modRevision == last + 1)
        try await store.keepAlive(lease: lease)
        try await store.revokeLease(lease)
        #expect(try await store.get(key: "leased") == nil)
    }

    @Test func revisionSurvivesCompactingAwayEveryRow() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("store.sqlite")
        let last: Revision
        do {
            let store = try SQLiteStore(path: path)
            _ = try await store.create(key: "a", value: [], lease: 0)
            last = try await store.delete(key: "a", expectedRevision: nil).revision
            try await store.compact(revision: last)
            try store.close()
        }
        let store = try SQLiteStore(path: path, durability: .powerLoss)
        defer { try? store.close() }
        #expect(try await store.currentRevision() == last)
        let empty = try await store.range(start: "", end: "\u{0}", limit: 0, revision: last)
        #expect(empty.items.isEmpty && empty.revision == last)
        #expect(try await store.create(key: "b", value: [], lease: 0).modRevision == last + 1)
    }

    @Test func closeEndsWatchesAndRefusesCalls() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteStore(path: directory.path("store.sqlite"))
        let watcher = EventCollector(store.watch(start: "", end: "\u{0}", afterRevision: 0))
        _ = try await store.create(key: "k", value: [], lease: 0)
        _ = try await watcher.wait(for: 1)
        try store.close()
        #expect(try await watcher.waitForEnd() as? StorageError == .unavailable("store closed"))
        await expectError(.unavailable("store closed")) { try await store.create(key: "x", value: [], lease: 0) }
        await expectError(.unavailable("store closed")) { try await store.get(key: "k") }
    }

    @Test func droppingTheStoreReleasesItDespiteALeaseTimer() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        weak var weakStore: SQLiteStore?
        do {
            let store = try SQLiteStore(path: directory.path("store.sqlite"), leaseCheckInterval: .milliseconds(10))
            weakStore = store
            _ = try await store.grantLease(ttlSeconds: 60)
            try await Task.sleep(for: .milliseconds(30))
        }
        // A timer tick may hold the store for the length of one expiry check.
        for _ in 0..<100 where weakStore != nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(weakStore == nil)
    }

    /// Writes see the key as the writes before them left it, in the same group-committed batch too: the previous
    /// value comes from memory and the batch's own changes, not from a read of the database.
    @Test func writesToOneKeyInOneBatchSeeEachOther() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteStore(path: directory.path("store.sqlite"))
        defer { try? store.close() }
        let lease = try await store.grantLease(ttlSeconds: 60)
        let first = try await store.create(key: "k", value: bytes("0"), lease: 0)
        // Concurrent updates all expecting the first revision: exactly one wins, whatever batches they share.
        let winners = await withTaskGroup(of: Bool.self) { group in
            for index in 1...20 {
                group.addTask {
                    (try? await store.update(
                        key: "k", value: bytes("\(index)"), expectedRevision: first.modRevision, lease: 0)) != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(winners == 1)
        // Chains of create, update and delete of fresh keys, issued together so batches hold several.
        let outcomes = await withTaskGroup(of: String.self) { group in
            for index in 0..<20 {
                group.addTask {
                    let key = "chain/\(index)"
                    do {
                        let created = try await store.create(key: key, value: bytes("a"), lease: lease)
                        async let again = try? await store.create(key: key, value: bytes("b"), lease: lease)
                        let updated = try await store.update(
                            key: key, value: bytes("c"), expectedRevision: created.modRevision, lease: 0)
                        #expect(await again == nil, "a second create of a live key fails")
                        #expect(updated.createRevision == created.modRevision)
                        let deleted = try await store.delete(key: key, expectedRevision: updated.modRevision)
                        #expect(deleted.deleted.value == bytes("c"))
                        return "ok"
                    } catch {
                        return "\(error)"
                    }
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(outcomes == Array(repeating: "ok", count: 20))
        let current = try await store.get(key: "k")
        #expect(current.map { $0.modRevision > first.modRevision } == true)
        #expect(try await store.range(start: "chain/", end: "chain0", limit: 0, revision: nil).items.isEmpty)
        await expectError(.keyNotFound(key: "chain/0")) {
            try await store.update(key: "chain/0", value: [], expectedRevision: nil, lease: 0)
        }
    }
}

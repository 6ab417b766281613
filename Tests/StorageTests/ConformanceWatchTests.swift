import Storage
import Testing

/// Watch and lease semantics every backend must share; see `Backend` for how to add one.
// Serialized: every etcd case starts its own member, and a 2-core CI machine running them all at
// once starved lease timers into false failures.
@Suite("KeyValueStore conformance: watches and leases", .serialized) struct ConformanceWatchTests {
    @Test(arguments: Backend.all) func watchSeesEveryConcurrentWriteOnceInOrder(backend: Backend) async throws {
        try await withStore(backend) { store, prefix in
            let after = try await store.currentRevision()
            let watcher = EventCollector(store.watch(start: prefix, end: prefixEnd(prefix), afterRevision: after))
            let revisions = try await Self.writeConcurrently(store, prefix: prefix, tasks: 8, writesPerTask: 200)
            let events = try await watcher.wait(for: revisions.count)
            #expect(events.count == revisions.count)
            #expect(zip(events, events.dropFirst()).allSatisfy { $0.revision < $1.revision })
            #expect(events.map(\.revision) == revisions.sorted())
            if backend.isolated {
                #expect(events.map(\.revision) == Array((after + 1)...(after + Revision(revisions.count))))
            }
            #expect(events.allSatisfy { $0.kind == .put && $0.current.key.hasPrefix(prefix) })
        }
    }

    @Test(arguments: Backend.all) func watchFromThePastReplaysThenGoesLiveWithoutGapsUnderLoad(backend: Backend)
        async throws
    {
        try await withStore(backend) { store, prefix in
            var written: [Revision] = []
            for index in 0..<50 {
                written.append(try await store.create(key: prefix + "seed\(index)", value: [], lease: 0).modRevision)
            }
            let after = written[9]
            // The watch opens while writers run, so replay and live delivery race.
            async let more = Self.writeConcurrently(store, prefix: prefix, tasks: 4, writesPerTask: 100)
            try await Task.sleep(for: .milliseconds(2))
            let watcher = EventCollector(store.watch(start: prefix, end: prefixEnd(prefix), afterRevision: after))
            written += try await more
            let expected = written.filter { $0 > after }.sorted()
            let events = try await watcher.wait(for: expected.count)
            #expect(events.map(\.revision) == expected)
        }
    }

    @Test(arguments: Backend.all) func replayedAndLiveEventsCarryPreviousValues(backend: Backend) async throws {
        try await withStore(backend) { store, prefix in
            let key = prefix + "k"
            let created = try await store.create(key: key, value: bytes("v1"), lease: 0)
            let updated = try await store.update(key: key, value: bytes("v2"), expectedRevision: nil, lease: 0)
            let deleted = try await store.delete(key: key, expectedRevision: nil)
            let watcher = EventCollector(
                store.watch(start: prefix, end: prefixEnd(prefix), afterRevision: created.modRevision - 1))
            let replayed = try await watcher.wait(for: 3)
            let recreated = try await store.create(key: key, value: bytes("v3"), lease: 0)
            let reupdated = try await store.update(key: key, value: bytes("v4"), expectedRevision: nil, lease: 0)
            let live = try await store.delete(key: key, expectedRevision: nil)
            let events = try await watcher.wait(for: 6)
            #expect(replayed.count == 3)
            let expected = [
                WatchEvent(kind: .put, current: created, previous: nil),
                WatchEvent(kind: .put, current: updated, previous: created),
                WatchEvent(
                    kind: .delete,
                    current: KeyValue(key: key, value: [], createRevision: 0, modRevision: deleted.revision),
                    previous: updated), WatchEvent(kind: .put, current: recreated, previous: nil),
                WatchEvent(kind: .put, current: reupdated, previous: recreated),
                WatchEvent(
                    kind: .delete,
                    current: KeyValue(key: key, value: [], createRevision: 0, modRevision: live.revision),
                    previous: reupdated),
            ]
            #expect(events == expected)
        }
    }

    @Test(arguments: Backend.all) func watchOverAKeyRangeSeesOnlyItsKeys(backend: Backend) async throws {
        try await withStore(backend) { store, prefix in
            let after = try await store.currentRevision()
            let pods = EventCollector(
                store.watch(start: prefix + "pods/", end: prefixEnd(prefix + "pods/"), afterRevision: after))
            let single = EventCollector(store.watch(start: prefix + "pods/a", end: nil, afterRevision: after))
            for name in ["pods/a", "services/a", "pods/b", "podsx", "pods/a"] {
                if try await store.get(key: prefix + name) == nil {
                    _ = try await store.create(key: prefix + name, value: bytes(name), lease: 0)
                } else {
                    _ = try await store.update(key: prefix + name, value: bytes(name), expectedRevision: nil, lease: 0)
                }
            }
            let podEvents = try await pods.wait(for: 3)
            #expect(podEvents.map(\.current.key) == ["pods/a", "pods/b", "pods/a"].map { prefix + $0 })
            let singleEvents = try await single.wait(for: 2)
            #expect(singleEvents.map(\.current.key) == [prefix + "pods/a", prefix + "pods/a"])
            // Nothing else trickles in afterwards.
            try await Task.sleep(for: .milliseconds(50))
            #expect(pods.snapshot.events.count == 3)
            #expect(single.snapshot.events.count == 2)
        }
    }

    @Test(arguments: Backend.all) func watchFromTheFutureWaitsForItsRevision(backend: Backend) async throws {
        try await withStore(backend) { store, prefix in
            let now = try await store.currentRevision()
            let watcher = EventCollector(store.watch(start: prefix, end: prefixEnd(prefix), afterRevision: now + 2))
            var revisions: [Revision] = []
            for index in 0..<4 {
                revisions.append(try await store.create(key: prefix + "\(index)", value: [], lease: 0).modRevision)
            }
            let events = try await watcher.wait(for: revisions.filter { $0 > now + 2 }.count)
            #expect(events.map(\.revision) == revisions.filter { $0 > now + 2 })
        }
    }

    @Test(arguments: Backend.all) func aQuietWatchHearsProgressOfWritesElsewhere(backend: Backend) async throws {
        try await withStore(backend) { store, prefix in
            let quiet = prefix + "quiet/"
            let start = try await store.currentRevision()
            let asked = EventCollector(
                updates: store.watch(start: quiet, end: prefixEnd(quiet), afterRevision: start, progressNotify: true))
            let notAsked = EventCollector(
                updates: store.watch(start: quiet, end: prefixEnd(quiet), afterRevision: start, progressNotify: false))
            var last: Revision = 0
            for index in 0..<5 {
                last = try await store.create(key: prefix + "busy/\(index)", value: [], lease: 0).modRevision
            }
            // The in-process stores notify every second, etcd here every half second.
            let deadline = ContinuousClock.now + .seconds(10)
            while (asked.progress.max() ?? 0) < last, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect((asked.progress.max() ?? 0) >= last)
            #expect(asked.progress == asked.progress.sorted())
            #expect(asked.snapshot.events.isEmpty)
            #expect(notAsked.progress.isEmpty)

            // A watch resumed after the notified revision misses nothing written since.
            let resumed = EventCollector(
                store.watch(start: quiet, end: prefixEnd(quiet), afterRevision: asked.progress.max() ?? start))
            let written = try await store.create(key: quiet + "x", value: [], lease: 0)
            #expect(try await resumed.wait(for: 1).map(\.revision) == [written.modRevision])
            #expect(try await asked.wait(for: 1).map(\.revision) == [written.modRevision])
        }
    }

    @Test(arguments: Backend.all) func leaseExpiryDeletesItsKeysWithDeleteEvents(backend: Backend) async throws {
        try await withStore(backend) { store, prefix in
            let lease = try await store.grantLease(ttlSeconds: 2)
            let a = try await store.create(key: prefix + "a", value: bytes("a"), lease: lease)
            let b = try await store.create(key: prefix + "b", value: bytes("b"), lease: 0)
            let bLeased = try await store.update(
                key: prefix + "b", value: bytes("b2"), expectedRevision: nil, lease: lease)
            _ = try await store.create(key: prefix + "c", value: bytes("c"), lease: 0)
            #expect(a.lease == lease)
            #expect(b.lease == 0)
            let after = try await store.currentRevision()
            let watcher = EventCollector(store.watch(start: prefix, end: prefixEnd(prefix), afterRevision: after))
            let started = ContinuousClock.now
            let events = try await watcher.wait(for: 2, timeout: .seconds(10))
            // etcd rounds short TTLs up to its minimum, so only an upper bound is portable.
            #expect(ContinuousClock.now - started < .seconds(8))
            #expect(events.map(\.kind) == [.delete, .delete])
            #expect(events.map(\.current.key) == [prefix + "a", prefix + "b"])
            #expect(events.map(\.previous) == [a, bLeased])
            #expect(try await store.get(key: prefix + "a") == nil)
            #expect(try await store.get(key: prefix + "c") != nil)
            await expectError(.leaseNotFound(lease)) { try await store.keepAlive(lease: lease) }
        }
    }

    @Test(arguments: Backend.all) func keepAliveHoldsALeaseAndRevokeDeletesNow(backend: Backend) async throws {
        try await withStore(backend) { store, prefix in
            // Keep-alives every 250 ms until 1.5 TTLs have passed: the key outlives its TTL. The TTL leaves a
            // 12× margin because parallel tests on a busy 2-core machine once delayed a 250 ms sleep past 1 s.
            let lease = try await store.grantLease(ttlSeconds: 3)
            _ = try await store.create(key: prefix + "held", value: [], lease: lease)
            let start = ContinuousClock.now
            while ContinuousClock.now - start < .milliseconds(4500) {
                try await Task.sleep(for: .milliseconds(250))
                try await store.keepAlive(lease: lease)
            }
            #expect(try await store.get(key: prefix + "held") != nil)
            let before = try await store.currentRevision()
            try await store.revokeLease(lease)
            #expect(try await store.get(key: prefix + "held") == nil)
            #expect(try await store.currentRevision() > before)
            await expectError(.leaseNotFound(lease)) { try await store.revokeLease(lease) }
            await expectError(.leaseNotFound(lease)) {
                try await store.create(key: prefix + "late", value: [], lease: lease)
            }
            // Lease 0 means "no lease"; it cannot be revoked, and keys without a lease stay.
            _ = try await store.create(key: prefix + "free", value: [], lease: 0)
            await expectError(.leaseNotFound(0)) { try await store.revokeLease(0) }
            await expectError(.leaseNotFound(0)) { try await store.keepAlive(lease: 0) }
            #expect(try await store.get(key: prefix + "free") != nil)
            let other = try await store.grantLease(ttlSeconds: 60)
            #expect(other != lease && other != 0)
            try await store.revokeLease(other)
        }
    }

    @Test(arguments: Backend.all) func stoppingIterationEndsTheWatch(backend: Backend) async throws {
        try await withStore(backend) { store, prefix in
            let after = try await store.currentRevision()
            let stream = store.watch(start: prefix, end: prefixEnd(prefix), afterRevision: after)
            let consumer = Task {
                var seen = 0
                for try await _ in stream {
                    seen += 1
                    if seen == 2 { break }
                }
                return seen
            }
            for index in 0..<5 { _ = try await store.create(key: prefix + "\(index)", value: [], lease: 0) }
            #expect(try await consumer.value == 2)
            // Writes after the consumer left must not fail or block.
            _ = try await store.create(key: prefix + "after", value: [], lease: 0)
        }
    }

    /// Creates `tasks × writesPerTask` keys from concurrent tasks; returns the revisions written.
    static func writeConcurrently(_ store: any KeyValueStore, prefix: String, tasks: Int, writesPerTask: Int)
        async throws -> [Revision]
    {
        try await withThrowingTaskGroup(of: [Revision].self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var revisions: [Revision] = []
                    for index in 0..<writesPerTask {
                        let kv = try await store.create(
                            key: prefix + "w\(task)/\(index)", value: [UInt8(index % 256)], lease: 0)
                        revisions.append(kv.modRevision)
                    }
                    return revisions
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }
}

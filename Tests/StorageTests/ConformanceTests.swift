import Storage
import Testing

/// Key-value semantics every backend must share; see `Backend` for how to add one.
// Serialized: every etcd case starts its own member, and a 2-core CI machine running them all at
// once starved lease timers into false failures.
@Suite("KeyValueStore conformance: reads and writes", .serialized) struct ConformanceTests {
    @Test(arguments: Backend.all) func createThenExists(backend: Backend) async throws {
        try await withStore(backend) { store, prefix in
            let before = try await store.currentRevision()
            let created = try await store.create(key: prefix + "a", value: bytes("one"), lease: 0)
            #expect(created.key == prefix + "a")
            #expect(created.value == bytes("one"))
            #expect(created.createRevision == created.modRevision)
            #expect(created.modRevision > before)
            #expect(try await store.get(key: prefix + "a") == created)
            #expect(try await store.get(key: prefix + "missing") == nil)
            await expectError(.keyExists(key: prefix + "a")) {
                try await store.create(key: prefix + "a", value: bytes("two"), lease: 0)
            }
            #expect(try await store.get(key: prefix + "a")?.value == bytes("one"))
        }
    }

    @Test(arguments: Backend.all) func emptyValuesAndUnicodeKeysRoundTrip(backend: Backend) async throws {
        try await withStore(backend) { store, prefix in
            _ = try await store.create(key: prefix + "empty", value: [], lease: 0)
            #expect(try await store.get(key: prefix + "empty")?.value == [])
            // Canonically equivalent but byte-different keys are two keys, ordered by bytes.
            let decomposed = prefix + "e\u{301}"
            let composed = prefix + "\u{E9}"
            _ = try await store.create(key: composed, value: bytes("nfc"), lease: 0)
            _ = try await store.create(key: decomposed, value: bytes("nfd"), lease: 0)
            #expect(try await store.get(key: composed)?.value == bytes("nfc"))
            #expect(try await store.get(key: decomposed)?.value == bytes("nfd"))
            let listed = try await store.range(start: prefix, end: prefixEnd(prefix), limit: 0, revision: nil)
            // By bytes: "empty" (65 6D...) < "e\u{301}" (65 CC 81) < "\u{E9}" (C3 A9).
            #expect(listed.items.map(\.value) == [[], bytes("nfd"), bytes("nfc")])
        }
    }

    @Test(arguments: Backend.all) func updateIfRevision(backend: Backend) async throws {
        try await withStore(backend) { store, prefix in
            let key = prefix + "k"
            let created = try await store.create(key: key, value: bytes("v1"), lease: 0)
            let updated = try await store.update(
                key: key, value: bytes("v2"), expectedRevision: created.modRevision, lease: 0)
            #expect(updated.value == bytes("v2"))
            #expect(updated.createRevision == created.createRevision)
            #expect(updated.modRevision > created.modRevision)
            await expectError(.conflict(current: updated)) {
                try await store.update(key: key, value: bytes("v3"), expectedRevision: created.modRevision, lease: 0)
            }
            let forced = try await store.update(key: key, value: bytes("v3"), expectedRevision: nil, lease: 0)
            #expect(forced.value == bytes("v3"))
            #expect(forced.modRevision > updated.modRevision)
            await expectError(.keyNotFound(key: prefix + "missing")) {
                try await store.update(key: prefix + "missing", value: [], expectedRevision: nil, lease: 0)
            }
        }
    }

    @Test(arguments: Backend.all) func deleteIfRevision(backend: Backend) async throws {
        try await withStore(backend) { store, prefix in
            let key = prefix + "k"
            let created = try await store.create(key: key, value: bytes("v1"), lease: 0)
            let updated = try await store.update(key: key, value: bytes("v2"), expectedRevision: nil, lease: 0)
            await expectError(.conflict(current: updated)) {
                try await store.delete(key: key, expectedRevision: created.modRevision)
            }
            let (deleted, revision) = try await store.delete(key: key, expectedRevision: updated.modRevision)
            #expect(deleted == updated)
            #expect(revision > updated.modRevision)
            #expect(try await store.get(key: key) == nil)
            await expectError(.keyNotFound(key: key)) { try await store.delete(key: key, expectedRevision: nil) }
            // A key deleted and created again starts a new life: a new create revision.
            let again = try await store.create(key: key, value: bytes("v3"), lease: 0)
            #expect(again.createRevision > revision)
            let unconditional = try await store.delete(key: key, expectedRevision: nil)
            #expect(unconditional.deleted == again)
        }
    }

    @Test(arguments: Backend.all.filter(\.isolated)) func revisionsIncreaseByOnePerWrite(backend: Backend) async throws
    {
        try await withStore(backend) { store, prefix in
            var expected = try await store.currentRevision() + 1
            for index in 0..<5 {
                #expect(try await store.create(key: prefix + "\(index)", value: [], lease: 0).modRevision == expected)
                expected += 1
                let updated = try await store.update(
                    key: prefix + "\(index)", value: [1], expectedRevision: nil, lease: 0)
                #expect(updated.modRevision == expected)
                expected += 1
            }
            #expect(try await store.delete(key: prefix + "0", expectedRevision: nil).revision == expected)
            #expect(try await store.currentRevision() == expected)
            // Failed writes take no revision.
            _ = try? await store.create(key: prefix + "1", value: [], lease: 0)
            _ = try? await store.delete(key: prefix + "0", expectedRevision: nil)
            #expect(try await store.currentRevision() == expected)
        }
    }

    @Test(arguments: Backend.all) func rangeWithPrefixLimitAndMore(backend: Backend) async throws {
        try await withStore(backend) { store, prefix in
            for name in ["a/3", "a/1", "a/5", "a/2", "a/4", "b/1", "a"] {
                _ = try await store.create(key: prefix + name, value: bytes(name), lease: 0)
            }
            let current = try await store.currentRevision()
            let all = try await store.range(
                start: prefix + "a/", end: prefixEnd(prefix + "a/"), limit: 0, revision: nil)
            #expect(all.items.map(\.key) == (1...5).map { prefix + "a/\($0)" })
            #expect(!all.more)
            #expect(all.revision >= current)
            let page = try await store.range(
                start: prefix + "a/", end: prefixEnd(prefix + "a/"), limit: 2, revision: nil)
            #expect(page.items.map(\.key) == [prefix + "a/1", prefix + "a/2"])
            #expect(page.more)
            let next = try await store.range(
                start: prefix + "a/2\u{0}", end: prefixEnd(prefix + "a/"), limit: 2, revision: nil)
            #expect(next.items.map(\.key) == [prefix + "a/3", prefix + "a/4"])
            let exact = try await store.range(
                start: prefix + "a/", end: prefixEnd(prefix + "a/"), limit: 5, revision: nil)
            #expect(exact.items.count == 5)
            #expect(!exact.more)
            let single = try await store.range(start: prefix + "a", end: nil, limit: 0, revision: nil)
            #expect(single.items.map(\.key) == [prefix + "a"])
            let none = try await store.range(start: prefix + "zz", end: nil, limit: 0, revision: nil)
            #expect(none.items.isEmpty)
            let halfOpen = try await store.range(start: prefix + "a/4", end: prefix + "b/1", limit: 0, revision: nil)
            #expect(halfOpen.items.map(\.key) == [prefix + "a/4", prefix + "a/5"])
        }
    }

    @Test(arguments: Backend.all.filter(\.isolated)) func rangeToTheEndOfTheKeySpace(backend: Backend) async throws {
        try await withStore(backend) { store, prefix in
            for name in ["x", "y", "z"] { _ = try await store.create(key: prefix + name, value: [], lease: 0) }
            let rest = try await store.range(start: prefix + "y", end: "\u{0}", limit: 0, revision: nil)
            #expect(rest.items.map(\.key) == [prefix + "y", prefix + "z"])
            let everything = try await store.range(start: "", end: "\u{0}", limit: 0, revision: nil)
            #expect(everything.items.count == 3)
        }
    }

    @Test(arguments: Backend.all) func rangeAtPastRevisions(backend: Backend) async throws {
        try await withStore(backend) { store, prefix in
            let (start, end) = (prefix, prefixEnd(prefix))
            let r1 = try await store.create(key: prefix + "k1", value: bytes("v1"), lease: 0).modRevision
            let r2 = try await store.update(key: prefix + "k1", value: bytes("v2"), expectedRevision: nil, lease: 0)
                .modRevision
            let r3 = try await store.create(key: prefix + "k2", value: bytes("w1"), lease: 0).modRevision
            let r4 = try await store.delete(key: prefix + "k1", expectedRevision: nil).revision
            let r5 = try await store.create(key: prefix + "k0", value: bytes("u1"), lease: 0).modRevision

            func values(at revision: Revision, limit: Int = 0) async throws -> [String] {
                let result = try await store.range(start: start, end: end, limit: limit, revision: revision)
                #expect(result.revision == revision)
                return result.items.map { String(decoding: $0.value, as: UTF8.self) }
            }
            if r1 > 1 { #expect(try await values(at: r1 - 1) == []) }  // 0 would mean "current"
            #expect(try await values(at: r1) == ["v1"])
            #expect(try await values(at: r2) == ["v2"])
            #expect(try await values(at: r3) == ["v2", "w1"])
            #expect(try await values(at: r4) == ["w1"])
            #expect(try await values(at: r5) == ["u1", "w1"])
            #expect(try await values(at: r3, limit: 1) == ["v2"])
            let old = try await store.range(start: prefix + "k1", end: nil, limit: 0, revision: r2)
            #expect(old.items.first?.createRevision == r1)
            #expect(old.items.first?.modRevision == r2)
            let current = try await store.currentRevision()
            await expectError(.futureRevision(requested: current + 10, current: current)) {
                try await store.range(start: start, end: end, limit: 0, revision: current + 10)
            }
        }
    }

    @Test(arguments: Backend.all) func compactionForgetsOldRevisions(backend: Backend) async throws {
        try await withStore(backend) { store, prefix in
            let (start, end) = (prefix, prefixEnd(prefix))
            let r1 = try await store.create(key: prefix + "k", value: bytes("v1"), lease: 0).modRevision
            let r2 = try await store.update(key: prefix + "k", value: bytes("v2"), expectedRevision: nil, lease: 0)
                .modRevision
            _ = try await store.create(key: prefix + "gone", value: bytes("g"), lease: 0)
            _ = try await store.create(key: prefix + "stays", value: bytes("s"), lease: 0)
            let r5 = try await store.delete(key: prefix + "gone", expectedRevision: nil).revision
            try await store.compact(revision: r5)
            let r6 = try await store.update(key: prefix + "k", value: bytes("v3"), expectedRevision: nil, lease: 0)
                .modRevision

            await expectError(.compacted(requested: r1, compactedAt: r5)) {
                try await store.range(start: start, end: end, limit: 0, revision: r1)
            }
            let atCompaction = try await store.range(start: start, end: end, limit: 0, revision: r5)
            #expect(atCompaction.items.map(\.value) == [bytes("v2"), bytes("s")])
            #expect(atCompaction.items.first?.modRevision == r2)
            let now = try await store.range(start: start, end: end, limit: 0, revision: nil)
            #expect(now.items.map(\.value) == [bytes("v3"), bytes("s")])

            let tooOld = EventCollector(store.watch(start: start, end: end, afterRevision: r2))
            #expect(try await tooOld.waitForEnd() as? StorageError == .compacted(requested: r2, compactedAt: r5))
            let fresh = EventCollector(store.watch(start: start, end: end, afterRevision: r5))
            let events = try await fresh.wait(for: 1)
            #expect(events.map(\.revision) == [r6])
            #expect(events.first?.previous?.value == bytes("v2"))

            await expectError(.compacted(requested: r5, compactedAt: r5)) { try await store.compact(revision: r5) }
            let current = try await store.currentRevision()
            await expectError(.futureRevision(requested: current + 5, current: current)) {
                try await store.compact(revision: current + 5)
            }
            try await store.compact(revision: r6)
            #expect(try await store.get(key: prefix + "k")?.value == bytes("v3"))
        }
    }

    @Test(arguments: Backend.all) func concurrentCreatesOfOneKeyLetExactlyOneWin(backend: Backend) async throws {
        try await withStore(backend) { store, prefix in
            let key = prefix + "contended"
            let outcomes = await withTaskGroup(of: Result<KeyValue, any Error>.self) { group in
                for index in 0..<16 {
                    group.addTask {
                        await outcome { try await store.create(key: key, value: bytes("\(index)"), lease: 0) }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let winners = outcomes.compactMap { try? $0.get() }
            #expect(winners.count == 1)
            for case .failure(let error) in outcomes { #expect(error as? StorageError == .keyExists(key: key)) }
            let stored = try await store.get(key: key)
            #expect(stored == winners.first)
        }
    }

    @Test func prefixEndMatchesEtcd() {
        #expect(prefixEnd("/registry/pods/") == "/registry/pods0")
        #expect(prefixEnd("a") == "b")
        #expect(prefixEnd("") == "\u{0}")
        #expect(prefixEnd("a\u{10FFFF}") == "b")
        #expect(prefixEnd("\u{D7FF}") == "\u{E000}")
        #expect(prefixEnd("\u{10FFFF}") == "\u{0}")
    }
}

func outcome<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do { return .success(try await body()) } catch { return .failure(error) }
}

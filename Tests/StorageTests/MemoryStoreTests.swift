import Foundation
import Storage
import Testing

/// A clock tests move by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var instant = ContinuousClock.now

    var now: ContinuousClock.Instant { lock.withLock { instant } }

    func advance(by duration: Duration) { lock.withLock { instant += duration } }
}

@Suite("MemoryStore") struct MemoryStoreTests {
    @Test func leasesExpireByTheInjectedClock() async throws {
        let clock = ManualClock()
        let store = MemoryStore(leaseCheckInterval: .seconds(3600), now: { clock.now })
        defer { store.close() }
        let lease = try await store.grantLease(ttlSeconds: 10)
        _ = try await store.create(key: "k", value: [], lease: lease)
        clock.advance(by: .seconds(9))
        store.expireDueLeases()
        #expect(try await store.get(key: "k") != nil)
        try await store.keepAlive(lease: lease)
        clock.advance(by: .seconds(9))
        store.expireDueLeases()
        #expect(try await store.get(key: "k") != nil)
        clock.advance(by: .seconds(2))
        store.expireDueLeases()
        #expect(try await store.get(key: "k") == nil)
        #expect(try await store.currentRevision() == 2)
    }

    @Test func closeEndsWatchesAndRefusesCalls() async throws {
        let store = MemoryStore()
        let watcher = EventCollector(store.watch(start: "", end: "\u{0}", afterRevision: 0))
        _ = try await store.create(key: "k", value: [], lease: 0)
        _ = try await watcher.wait(for: 1)
        store.close()
        #expect(try await watcher.waitForEnd() as? StorageError == .unavailable("store closed"))
        await expectError(.unavailable("store closed")) { try await store.get(key: "k") }
        let late = EventCollector(store.watch(start: "", end: "\u{0}", afterRevision: 0))
        #expect(try await late.waitForEnd() as? StorageError == .unavailable("store closed"))
    }

    @Test func droppingTheStoreReleasesItDespiteALeaseTimer() async throws {
        weak var weakStore: MemoryStore?
        var watcher: EventCollector?
        do {
            let store = MemoryStore(leaseCheckInterval: .milliseconds(10))
            weakStore = store
            _ = try await store.grantLease(ttlSeconds: 60)
            watcher = EventCollector(store.watch(start: "", end: "\u{0}", afterRevision: 0))
        }
        // A timer tick may hold the store for the length of one expiry check.
        for _ in 0..<100 where weakStore != nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(weakStore == nil)
        #expect(try await watcher?.waitForEnd() as? StorageError == .unavailable("store closed"))
    }

    @Test func storeKeysCompareByBytes() async throws {
        let store = MemoryStore()
        defer { store.close() }
        // U+FFFD sorts after U+00E9 by bytes; "é" (2 bytes) after "e\u{301}" (3 bytes, starts with "e").
        for key in ["\u{FFFD}", "\u{E9}", "e\u{301}", "f", "e"] {
            _ = try await store.create(key: key, value: [], lease: 0)
        }
        let all = try await store.range(start: "", end: "\u{0}", limit: 0, revision: nil)
        #expect(
            all.items.map { Array($0.key.utf8) } == ["e", "e\u{301}", "f", "\u{E9}", "\u{FFFD}"].map { Array($0.utf8) })
    }
}

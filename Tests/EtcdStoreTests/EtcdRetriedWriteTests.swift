import EtcdStore
import Storage
import TestSupport
import Testing

/// A write whose answer was lost is retried; its compare then fails, and the store tells that the first
/// attempt landed (our value at a newer revision) rather than reporting AlreadyExists, a conflict or
/// NotFound for a write that succeeded.
@Suite(.enabled(if: EtcdProcess.isInstalled, "needs /usr/bin/etcd (apt-get install etcd-server)"))
struct EtcdRetriedWriteTests {
    @Test func writesWhoseAnswersWereLostAreRecognisedOnRetry() async throws {
        let member = try await EtcdProcess.start()
        let proxy = try await AnswerDroppingProxy.start(forwardingTo: "127.0.0.1", port: member.clientPort)
        let store = try EtcdStore(
            configuration: EtcdConfiguration(endpoints: try EtcdConfiguration.parseServers(proxy.url)))
        // Warm every connection, so the cut answer is a write's and not a first call's.
        for _ in 0..<4 { _ = try await store.currentRevision() }

        proxy.dropNextAnswer()
        let created = try await store.create(key: "/retried/a", value: [1], lease: 0)
        #expect(proxy.dropped)
        #expect(created.value == [1])
        #expect(created.createRevision == created.modRevision)
        await #expect(throws: StorageError.self) { _ = try await store.create(key: "/retried/a", value: [1], lease: 0) }

        proxy.dropNextAnswer()
        let updated = try await store.update(
            key: "/retried/a", value: [2], expectedRevision: created.modRevision, lease: 0)
        #expect(proxy.dropped)
        #expect(updated.value == [2])
        #expect(updated.modRevision > created.modRevision)

        proxy.dropNextAnswer()
        let (deleted, revision) = try await store.delete(key: "/retried/a", expectedRevision: updated.modRevision)
        #expect(proxy.dropped)
        #expect(deleted.value == [2])
        #expect(revision > updated.modRevision)
        #expect(try await store.get(key: "/retried/a") == nil)

        store.close()
        try await proxy.stop()
    }
}

import EtcdStore
import Foundation
import Storage
import TestSupport
import Testing

/// The etcd client against real etcd members started by the test.
@Suite(.enabled(if: EtcdProcess.isInstalled, "needs /usr/bin/etcd (apt-get install etcd-server)"))
struct EtcdStoreTests {
    static func store(_ members: [EtcdProcess]) throws -> EtcdStore {
        var configuration = EtcdConfiguration(
            endpoints: try EtcdConfiguration.parseServers(members.map(\.clientURL).joined(separator: ",")))
        configuration.callTimeout = .seconds(2)
        return try EtcdStore(configuration: configuration)
    }

    @Test func manyCallsOnOneConnectionOutliveTheControlFrameLimit() async throws {
        // etcd sends a PING per request burst; NIO's default limit (200 per 30 s) would end the connection.
        let member = try await EtcdProcess.start()
        let store = try Self.store([member])
        defer { store.close() }
        for index in 0..<600 {
            _ = try await store.create(key: "/limit/\(index)", value: [UInt8(index % 256)], lease: 0)
        }
        let all = try await store.range(start: "/limit/", end: "/limit0", limit: 0, revision: nil)
        #expect(all.items.count == 600)
    }

    @Test func aBrokenWatchStreamResumesWithoutLosingOrRepeatingEvents() async throws {
        let member = try await EtcdProcess.start()
        let store = try Self.store([member])
        defer { store.close() }
        let start = try await store.currentRevision()
        let stream = store.watch(start: "/resume/", end: "/resume0", afterRevision: start)
        let collected = Task {
            var revisions: [Revision] = []
            for try await event in stream {
                revisions.append(event.revision)
                if revisions.count == 100 { break }
            }
            return revisions
        }
        var written: [Revision] = []
        for index in 0..<50 {
            written.append(try await store.create(key: "/resume/a\(index)", value: [], lease: 0).modRevision)
        }
        member.kill()
        try await member.restart()
        for index in 0..<50 {
            written.append(try await store.create(key: "/resume/b\(index)", value: [], lease: 0).modRevision)
        }
        let seen = try await withTimeout(.seconds(30)) { try await collected.value }
        #expect(seen == written)
    }

    @Test func callsMoveToTheNextMemberWhenOneIsKilled() async throws {
        let members = try await EtcdProcess.startCluster(members: 3)
        let store = try Self.store(members)
        defer { store.close() }
        _ = try await store.create(key: "/failover/before", value: [1], lease: 0)
        members[0].kill()  // the member the client talks to first
        var created: [KeyValue] = []
        for index in 0..<20 {
            created.append(try await store.create(key: "/failover/\(index)", value: [UInt8(index)], lease: 0))
        }
        let listed = try await store.range(start: "/failover/", end: "/failover0", limit: 0, revision: nil)
        #expect(listed.items.count == 21)
        #expect(Set(created.map(\.modRevision)).count == 20)
    }

    @Test func aWatchLeavesAStoppedMemberThroughKeepalive() async throws {
        // Only the watch stream uses the first member, so nothing but the keepalive PING can tell that it
        // stopped answering; the writes go through another client on the other members.
        let members = try await EtcdProcess.startCluster(members: 3)
        let watcher = try EtcdStore(
            configuration: EtcdConfiguration(
                endpoints: try EtcdConfiguration.parseServers(members.map(\.clientURL).joined(separator: ","))))
        let writer = try Self.store(Array(members[1...]))
        defer {
            members[0].resume()
            watcher.close()
            writer.close()
        }
        let start = try await watcher.currentRevision()
        let stream = watcher.watch(start: "/stopped/", end: "/stopped0", afterRevision: start)
        let collected = Task {
            var revisions: [Revision] = []
            for try await event in stream {
                revisions.append(event.revision)
                if revisions.count == 20 { break }
            }
            return revisions
        }
        var written: [Revision] = []
        for index in 0..<10 {
            written.append(try await writer.create(key: "/stopped/a\(index)", value: [], lease: 0).modRevision)
        }
        members[0].pause()
        let paused = ContinuousClock.now
        for index in 0..<10 {
            written.append(try await writer.create(key: "/stopped/b\(index)", value: [], lease: 0).modRevision)
        }
        // keepAliveTime (5 s) of silence, keepAliveTimeout (3 s) for the ACK, then the resumed watch; the
        // margin is for a loaded 2-core machine. Without the keepalive the watch would wait forever.
        let seen = try await withTimeout(.seconds(20)) { try await collected.value }
        #expect(seen == written)
        #expect(ContinuousClock.now - paused < .seconds(14))
        // The client moved on: a read answers at once, from another member.
        let begin = ContinuousClock.now
        #expect(try await watcher.get(key: "/stopped/b9") != nil)
        #expect(ContinuousClock.now - begin < .seconds(2))
    }

    @Test func callsLeaveAStoppedMemberWithinSecondsWithoutFailing() async throws {
        let members = try await EtcdProcess.startCluster(members: 3)
        let store = try EtcdStore(
            configuration: EtcdConfiguration(
                endpoints: try EtcdConfiguration.parseServers(members.map(\.clientURL).joined(separator: ","))))
        defer {
            members[0].resume()
            store.close()
        }
        _ = try await store.create(key: "/pause/before", value: [1], lease: 0)
        members[0].pause()  // the member the client talks to: it keeps the connection open and says nothing
        let paused = ContinuousClock.now
        var created: [KeyValue] = []
        for index in 0..<20 {
            created.append(try await store.create(key: "/pause/\(index)", value: [UInt8(index)], lease: 0))
        }
        // One call waits out its deadline (5 s) on the stopped member; the rest go to the next one (20
        // writes take well under a second; the margin is for a loaded machine).
        #expect(ContinuousClock.now - paused < .seconds(11))
        let listed = try await store.range(start: "/pause/", end: "/pause0", limit: 0, revision: nil)
        #expect(listed.items.count == 21)
        #expect(Set(created.map(\.modRevision)).count == 20)
    }

    @Test func anUnreachableClusterFailsWithUnavailableAndRecovers() async throws {
        let member = try await EtcdProcess.start()
        var configuration = EtcdConfiguration(endpoints: try EtcdConfiguration.parseServers(member.clientURL))
        configuration.retryBudget = .milliseconds(500)
        let store = try EtcdStore(configuration: configuration)
        defer { store.close() }
        member.kill()
        #expect(await store.checkHealth() == false)
        await #expect(throws: StorageError.self) { _ = try await store.get(key: "/x") }
        try await member.restart()
        // The restarted member elects itself first; the store becomes healthy within moments.
        let deadline = ContinuousClock.now + .seconds(5)
        var healthy = await store.checkHealth()
        while !healthy, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            healthy = await store.checkHealth()
        }
        #expect(healthy)
        #expect(try await store.get(key: "/x") == nil)
    }
}

/// Runs `body`, failing when it takes longer than `limit`.
func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw EtcdProcessError("timed out after \(limit)")
        }
        group.cancelAll()
        return value
    }
}

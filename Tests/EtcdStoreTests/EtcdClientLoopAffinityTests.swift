import NIOCore
import NIOPosix
import TestSupport
import Testing

@testable import EtcdStore

/// Which connection a call takes: the one on the caller's event loop, else the shared one.
@Suite(.enabled(if: EtcdProcess.isInstalled, "needs /usr/bin/etcd (apt-get install etcd-server)"))
struct EtcdClientLoopAffinityTests {
    /// Runs a task's jobs on one event loop, as the API server runs each request on its connection's loop.
    final class LoopExecutor: TaskExecutor {
        let loop: any EventLoop
        init(_ loop: any EventLoop) { self.loop = loop }
        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
    }

    @Test func aCallOnAnEventLoopTakesThatLoopsConnectionAndOthersTakeTheSharedOne() async throws {
        let member = try await EtcdProcess.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 3)
        let loops = Array(group.makeIterator())
        let store = try EtcdStore(
            configuration: EtcdConfiguration(endpoints: try EtcdConfiguration.parseServers(member.clientURL)),
            group: group)
        defer { store.close() }

        for (index, loop) in loops.enumerated() {
            let used = try await Task(executorPreference: LoopExecutor(loop)) {
                // A real call first: the connection it used is the one handed out below.
                _ = try await store.create(key: "/affinity/\(index)", value: [UInt8(index)], lease: 0)
                return try await store.client.connection()
            }.value
            #expect(used.channel.eventLoop === loop)
        }
        // Off the loops every call takes the one shared connection (`connections` is 1).
        var shared: [ObjectIdentifier] = []
        for _ in 0..<4 { shared.append(ObjectIdentifier(try await store.client.connection())) }
        #expect(Set(shared).count == 1)
        let all = try await store.range(start: "/affinity/", end: "/affinity0", limit: 0, revision: nil)
        #expect(all.items.count == loops.count)
        store.close()
        try await group.shutdownGracefully()
    }
}

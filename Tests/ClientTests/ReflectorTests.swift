import Client
import XCTest

/// The reflector and informer against a scripted `ListWatch`, on `FakeTime`.
final class ReflectorTests: XCTestCase {
    private typealias Calls = AsyncStream<ScriptedListWatch<ConfigMap>.Call>.Iterator

    private func nextCall(_ calls: inout Calls, file: StaticString = #filePath, line: UInt = #line) async throws
        -> ScriptedListWatch<ConfigMap>.Call
    {
        try await nextElement(of: &calls, file: file, line: line)
    }

    /// Yields until `time` has `count` sleepers: the reflector is then waiting out a backoff.
    private func waitForSleepers(_ time: FakeTime, _ count: Int) async {
        for _ in 0..<100_000 where time.sleeperCount < count { await Task.yield() }
        XCTAssertEqual(time.sleeperCount, count)
    }

    func testListsEveryPageThenWatchesFromTheListsResourceVersion() async throws {
        let listWatch = ScriptedListWatch<ConfigMap>()
        let indexer = Indexer<ConfigMap>()
        let reflector = Reflector(
            listWatch: listWatch, store: indexer, time: FakeTime(), logger: quietLogger, random: { 0 })
        let run = Task { await reflector.run() }
        defer { run.cancel() }
        var calls = listWatch.calls.makeAsyncIterator()

        var call = try await nextCall(&calls)
        XCTAssertEqual(call.kind, .list(limit: 500, continueToken: nil, resourceVersion: "0"))
        call.respond(
            ListPage(
                items: [configMapModel("ns", "a", resourceVersion: "3")], resourceVersion: "10",
                continueToken: "page-2"))
        call = try await nextCall(&calls)
        XCTAssertEqual(call.kind, .list(limit: 500, continueToken: "page-2", resourceVersion: "0"))
        XCTAssertEqual(indexer.count, 0, "the store is replaced only once every page is in")
        call.respond(ListPage(items: [configMapModel("ns", "b", resourceVersion: "7")], resourceVersion: "10"))
        call = try await nextCall(&calls)
        XCTAssertEqual(call.kind, .watch(resourceVersion: "10"))
        XCTAssertEqual(
            indexer.listKeys().sorted(), [ObjectKey(namespace: "ns", name: "a"), ObjectKey(namespace: "ns", name: "b")])
        XCTAssertEqual(reflector.lastSyncResourceVersion, "10")
        XCTAssertEqual(reflector.statistics, Reflector<ConfigMap>.Statistics(lists: 1, watches: 1))
    }

    func testBrokenWatchResumesFromTheLastBookmark() async throws {
        let listWatch = ScriptedListWatch<ConfigMap>()
        let indexer = Indexer<ConfigMap>()
        let reflector = Reflector(
            listWatch: listWatch, store: indexer, time: FakeTime(), logger: quietLogger, random: { 0 })
        let run = Task { await reflector.run() }
        defer { run.cancel() }
        var calls = listWatch.calls.makeAsyncIterator()

        try await nextCall(&calls).respond(ListPage(items: [], resourceVersion: "10"))
        var call = try await nextCall(&calls)
        XCTAssertEqual(call.kind, .watch(resourceVersion: "10"))
        let events = call.respondWatch()
        events.yield(.added(configMapModel("ns", "a", resourceVersion: "11")))
        events.yield(.bookmark(resourceVersion: "15"))
        events.finish(throwing: ClientError.connectionClosed)
        call = try await nextCall(&calls)
        XCTAssertEqual(call.kind, .watch(resourceVersion: "15"), "a broken watch resumes, without a relist")
        XCTAssertEqual(indexer.get(ObjectKey(namespace: "ns", name: "a"))?.metadata.resourceVersion, "11")
        // A watch that simply times out resumes too, from the newest event.
        let second = call.respondWatch()
        second.yield(.modified(configMapModel("ns", "a", resourceVersion: "16")))
        second.finish()
        call = try await nextCall(&calls)
        XCTAssertEqual(call.kind, .watch(resourceVersion: "16"))
        XCTAssertEqual(reflector.statistics.lists, 1)
    }

    func testExpiredWatchRelistsAndReportsVanishedObjectsAsTombstones() async throws {
        let listWatch = ScriptedListWatch<ConfigMap>()
        let informer = SharedIndexInformer(listWatch: listWatch, time: FakeTime(), logger: quietLogger, random: { 0 })
        let recorder = HandlerRecorder<ConfigMap>()
        informer.addEventHandler(recorder.handler())
        let run = Task { await informer.run() }
        defer { run.cancel() }
        var calls = listWatch.calls.makeAsyncIterator()

        XCTAssertFalse(informer.hasSynced)
        try await nextCall(&calls).respond(
            ListPage(
                items: [
                    configMapModel("ns", "a", resourceVersion: "5"), configMapModel("ns", "b", resourceVersion: "6"),
                ],
                resourceVersion: "10"))
        let synced = await informer.waitForSync()
        XCTAssertTrue(synced)
        XCTAssertTrue(informer.hasSynced)
        let initial = try await recorder.next(2)
        XCTAssertEqual(initial, ["add ns/a initial", "add ns/b initial"])

        let events = try await nextCall(&calls).respondWatch()
        events.yield(.modified(configMapModel("ns", "a", resourceVersion: "11")))
        events.yield(.error(StatusError(code: 410, reason: "Expired", message: "too old resource version: 10 (12)")))
        let relist = try await nextCall(&calls)
        XCTAssertEqual(relist.kind, .list(limit: 500, continueToken: nil, resourceVersion: "11"))
        relist.respond(
            ListPage(
                items: [
                    configMapModel("ns", "a", resourceVersion: "13"), configMapModel("ns", "c", resourceVersion: "14"),
                ],
                resourceVersion: "20"))
        let changes = try await recorder.next(4)
        XCTAssertEqual(changes, ["update ns/a 5->11", "update ns/a 11->13", "add ns/c", "tombstone ns/b@6"])
        let resumed = try await nextCall(&calls)
        XCTAssertEqual(resumed.kind, .watch(resourceVersion: "20"))
        XCTAssertNil(informer.lister.get(namespace: "ns", name: "b"))
        XCTAssertEqual(informer.lister.list().map(\.metadata.name), ["a", "c"])
    }

    func testWatchRefusedWithGoneRelistsAndAnExpiredListFallsBackToTheLatest() async throws {
        let listWatch = ScriptedListWatch<ConfigMap>()
        let reflector = Reflector(
            listWatch: listWatch, store: Indexer<ConfigMap>(), time: FakeTime(), logger: quietLogger, random: { 0 })
        let run = Task { await reflector.run() }
        defer { run.cancel() }
        var calls = listWatch.calls.makeAsyncIterator()

        try await nextCall(&calls).respond(ListPage(items: [], resourceVersion: "10"))
        try await nextCall(&calls).fail(StatusError(code: 410, reason: "Gone", message: "gone"))
        let relist = try await nextCall(&calls)
        XCTAssertEqual(relist.kind, .list(limit: 500, continueToken: nil, resourceVersion: "10"))
        relist.fail(StatusError(code: 410, reason: "Gone", message: "too old resource version: 10 (30)"))
        let latest = try await nextCall(&calls)
        XCTAssertEqual(latest.kind, .list(limit: 500, continueToken: nil, resourceVersion: ""))
        latest.respond(ListPage(items: [], resourceVersion: "31"))
        let watch = try await nextCall(&calls)
        XCTAssertEqual(watch.kind, .watch(resourceVersion: "31"))
    }

    func testFailuresBackOffExponentiallyOnTheInjectedClock() async throws {
        let time = FakeTime()
        let listWatch = ScriptedListWatch<ConfigMap>()
        let reflector = Reflector(
            listWatch: listWatch, store: Indexer<ConfigMap>(), time: time, logger: quietLogger, random: { 0.5 })
        let run = Task { await reflector.run() }
        defer { run.cancel() }
        var calls = listWatch.calls.makeAsyncIterator()
        let unavailable = StatusError(code: 503, reason: "ServiceUnavailable", message: "try later")

        try await nextCall(&calls).fail(unavailable)
        // 800 ms with half of the 100 % jitter: 1.2 s.
        await waitForSleepers(time, 1)
        time.advance(by: .milliseconds(1199))
        XCTAssertEqual(time.sleeperCount, 1, "the backoff ended early")
        time.advance(by: .milliseconds(1))
        var call = try await nextCall(&calls)
        XCTAssertEqual(call.kind, .list(limit: 500, continueToken: nil, resourceVersion: "0"))
        call.fail(unavailable)
        // Doubled: 1.6 s plus jitter, 2.4 s.
        await waitForSleepers(time, 1)
        time.advance(by: .milliseconds(2399))
        XCTAssertEqual(time.sleeperCount, 1)
        time.advance(by: .milliseconds(1))
        try await nextCall(&calls).respond(ListPage(items: [], resourceVersion: "10"))
        call = try await nextCall(&calls)
        XCTAssertEqual(call.kind, .watch(resourceVersion: "10"))
        // A watch that closes at once without an event is "very short": it backs off too (3.2 s · 1.5).
        call.respondWatch().finish()
        await waitForSleepers(time, 1)
        time.advance(by: .milliseconds(4800))
        let again = try await nextCall(&calls)
        XCTAssertEqual(again.kind, .watch(resourceVersion: "10"))
        XCTAssertEqual(reflector.statistics, Reflector<ConfigMap>.Statistics(lists: 3, watches: 2))
    }

    func testWatchEventsApplyInServerOrderEvenWithOlderResourceVersions() async throws {
        let listWatch = ScriptedListWatch<ConfigMap>()
        let informer = SharedIndexInformer(listWatch: listWatch, time: FakeTime(), logger: quietLogger, random: { 0 })
        let recorder = HandlerRecorder<ConfigMap>()
        informer.addEventHandler(recorder.handler())
        let run = Task { await informer.run() }
        defer { run.cancel() }
        var calls = listWatch.calls.makeAsyncIterator()
        try await nextElement(of: &calls).respond(
            ListPage(items: [configMapModel("ns", "a", resourceVersion: "10")], resourceVersion: "10"))
        let events = try await nextElement(of: &calls).respondWatch()
        // resourceVersions are opaque to clients: the server's order is the truth, not their numeric order.
        events.yield(.modified(configMapModel("ns", "a", resourceVersion: "8", data: ["v": "late"])))
        let seen = try await recorder.next(2)
        XCTAssertEqual(seen, ["add ns/a initial", "update ns/a 10->8"])
        XCTAssertEqual(informer.lister.get(namespace: "ns", name: "a")?.data, ["v": "late"])
    }
}

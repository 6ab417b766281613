import APIMachinery
import Client
import NIOConcurrencyHelpers
import TestSupport
import XCTest

/// Informers, the factory and listers against the in-process API server, plus handler delivery and resync
/// against a scripted `ListWatch`.
final class InformerTests: XCTestCase {
    private func adminClient() async throws -> RESTClient {
        let endpoint = try await LocalAPIServer.shared.start()
        return try RESTClient(kubeconfigPath: endpoint.kubeconfigPath)
    }

    /// Only the test's own ConfigMaps: the server adds kube-root-ca.crt to every namespace on its own schedule.
    private static func own(_ configMap: ConfigMap) -> Bool { configMap.metadata.name != "kube-root-ca.crt" }

    func testHandlersSeeChangesInOrderAndListerAnswers() async throws {
        let client = try await adminClient()
        let namespace = uniqueNamespace("informer")
        try await client.createNamespace(namespace)
        let configMaps = ResourceClient<ConfigMap>(client: client, namespace: namespace)
        _ = try await configMaps.create(ConfigMap(data: ["v": "1"], metadata: ObjectMeta(name: "a")))

        let informer = SharedIndexInformer<ConfigMap>(client: client, scope: ListScope(namespace: namespace))
        let recorder = HandlerRecorder<ConfigMap>()
        informer.addEventHandler(recorder.handler(include: Self.own))
        XCTAssertFalse(informer.hasSynced)
        let run = Task { await informer.run() }
        let synced = await informer.waitForSync()
        XCTAssertTrue(synced)
        XCTAssertTrue(informer.hasSynced)
        let initial = try await recorder.next(1)
        XCTAssertEqual(initial, ["add \(namespace)/a initial"])

        let b = try await configMaps.create(
            ConfigMap(data: ["v": "1"], metadata: ObjectMeta(labels: ["tier": "web"], name: "b")))
        var changed = b
        changed.data["v"] = "2"
        let updated = try await configMaps.update(changed)
        try await configMaps.delete("a")
        let changes = try await recorder.next(3)
        XCTAssertEqual(
            changes,
            [
                "add \(namespace)/b",
                "update \(namespace)/b \(b.metadata.resourceVersion ?? "")->\(updated.metadata.resourceVersion ?? "")",
                "delete \(namespace)/a",
            ])

        let lister = informer.lister
        XCTAssertEqual(lister.get(namespace: namespace, name: "b")?.data, ["v": "2"])
        XCTAssertNil(lister.get(namespace: namespace, name: "a"))
        let web = try LabelSelector(parsing: "tier=web")
        XCTAssertEqual(lister.list(namespace: namespace, selector: web).map(\.metadata.name), ["b"])
        XCTAssertFalse(informer.lastSyncResourceVersion.isEmpty)
        run.cancel()
        await run.value
        await client.shutdown()
    }

    func testFactoryGivesEveryConsumerTheSameInformerAndOneWatch() async throws {
        let client = try await adminClient()
        let namespace = uniqueNamespace("factory")
        try await client.createNamespace(namespace)
        let factory = SharedInformerFactory(client: client, defaultScope: ListScope(namespace: namespace))

        // Two controllers ask for ConfigMaps independently.
        let first = factory.informer(for: ConfigMap.self)
        let second = factory.informer(for: ConfigMap.self)
        XCTAssertTrue(first === second)
        XCTAssertFalse(factory.informer(for: ConfigMap.self, scope: .all) === first, "another scope, another cache")
        let firstRecorder = HandlerRecorder<ConfigMap>()
        let secondRecorder = HandlerRecorder<ConfigMap>()
        first.addEventHandler(firstRecorder.handler(include: Self.own))
        second.addEventHandler(secondRecorder.handler(include: Self.own))

        factory.start()
        let synced = await factory.waitForCacheSync()
        XCTAssertTrue(synced)
        _ = try await ResourceClient<ConfigMap>(client: client, namespace: namespace).create(
            ConfigMap(metadata: ObjectMeta(name: "shared")))
        let seenByFirst = try await firstRecorder.next(1)
        let seenBySecond = try await secondRecorder.next(1)
        XCTAssertEqual(seenByFirst, ["add \(namespace)/shared"])
        XCTAssertEqual(seenBySecond, seenByFirst)
        XCTAssertEqual(first.statistics, Reflector<ConfigMap>.Statistics(lists: 1, watches: 1))
        XCTAssertEqual(
            factory.lister(for: ConfigMap.self).get(namespace: namespace, name: "shared")?.metadata.name, "shared")

        await factory.shutdown()
        await client.shutdown()
    }

    func testHandlerAddedLaterGetsTheCacheAsInitialAdds() async throws {
        let listWatch = ScriptedListWatch<ConfigMap>()
        let informer = SharedIndexInformer(listWatch: listWatch, time: FakeTime(), logger: quietLogger, random: { 0 })
        let run = Task { await informer.run() }
        defer { run.cancel() }
        var calls = listWatch.calls.makeAsyncIterator()
        try await nextElement(of: &calls).respond(
            ListPage(
                items: [
                    configMapModel("ns", "b", resourceVersion: "2"), configMapModel("ns", "a", resourceVersion: "1"),
                ],
                resourceVersion: "5"))
        _ = await informer.waitForSync()
        let events = try await nextElement(of: &calls).respondWatch()

        let late = HandlerRecorder<ConfigMap>()
        informer.addEventHandler(late.handler())
        events.yield(.added(configMapModel("ns", "c", resourceVersion: "6")))
        let seen = try await late.next(3)
        XCTAssertEqual(seen, ["add ns/a initial", "add ns/b initial", "add ns/c"])
    }

    func testSlowHandlerDelaysNobodyElse() async throws {
        let listWatch = ScriptedListWatch<ConfigMap>()
        let informer = SharedIndexInformer(listWatch: listWatch, time: FakeTime(), logger: quietLogger, random: { 0 })
        let gate = Gate()
        let slow = HandlerRecorder<ConfigMap>()
        let slowHandler = slow.handler()
        informer.addEventHandler(
            ResourceEventHandler(
                onAdd: { object, initial in
                    await gate.wait()
                    await slowHandler.onAdd(object, initial)
                },
                onUpdate: slowHandler.onUpdate, onDelete: slowHandler.onDelete))
        let fast = HandlerRecorder<ConfigMap>()
        informer.addEventHandler(fast.handler())
        let run = Task { await informer.run() }
        defer { run.cancel() }
        var calls = listWatch.calls.makeAsyncIterator()
        try await nextElement(of: &calls).respond(ListPage(items: [], resourceVersion: "1"))
        let events = try await nextElement(of: &calls).respondWatch()
        events.yield(.added(configMapModel("ns", "a", resourceVersion: "2")))
        events.yield(.modified(configMapModel("ns", "a", resourceVersion: "3")))
        events.yield(.deleted(configMapModel("ns", "a", resourceVersion: "4")))

        let fastSaw = try await fast.next(3)
        XCTAssertEqual(fastSaw, ["add ns/a", "update ns/a 2->3", "delete ns/a"])
        gate.open()
        let slowSaw = try await slow.next(3)
        XCTAssertEqual(slowSaw, fastSaw, "the slow handler gets the same changes, in order, once it catches up")
    }

    func testRegistrationHasSyncedOnceItsHandlerHandledTheFirstList() async throws {
        let listWatch = ScriptedListWatch<ConfigMap>()
        let informer = SharedIndexInformer(listWatch: listWatch, time: FakeTime(), logger: quietLogger, random: { 0 })
        let gate = Gate()
        let slow = informer.addEventHandler(ResourceEventHandler(onAdd: { _, _ in await gate.wait() }))
        let fastRecorder = HandlerRecorder<ConfigMap>()
        let fast = informer.addEventHandler(fastRecorder.handler())
        let run = Task { await informer.run() }
        defer { run.cancel() }
        var calls = listWatch.calls.makeAsyncIterator()
        try await nextElement(of: &calls).respond(
            ListPage(items: [configMapModel("ns", "a", resourceVersion: "1")], resourceVersion: "1"))
        _ = try await fastRecorder.next(1)
        for _ in 0..<100_000 where !fast.hasSynced { await Task.yield() }
        XCTAssertTrue(fast.hasSynced)
        XCTAssertTrue(informer.hasSynced)
        XCTAssertFalse(slow.hasSynced, "the slow handler has not handled the first list yet")
        gate.open()
        for _ in 0..<100_000 where !slow.hasSynced { await Task.yield() }
        XCTAssertTrue(slow.hasSynced)
        let late = informer.addEventHandler(ResourceEventHandler())
        for _ in 0..<100_000 where !late.hasSynced { await Task.yield() }
        XCTAssertTrue(late.hasSynced, "a handler added after sync syncs once it has handled the cache")
    }

    func testResyncRedeliversTheCacheAsUpdatesOnTheInjectedClock() async throws {
        let time = FakeTime()
        let listWatch = ScriptedListWatch<ConfigMap>()
        let informer = SharedIndexInformer(
            listWatch: listWatch, resyncPeriod: .seconds(30), time: time, logger: quietLogger, random: { 0 })
        let recorder = HandlerRecorder<ConfigMap>()
        informer.addEventHandler(recorder.handler())
        let run = Task { await informer.run() }
        defer { run.cancel() }
        var calls = listWatch.calls.makeAsyncIterator()
        try await nextElement(of: &calls).respond(
            ListPage(items: [configMapModel("ns", "a", resourceVersion: "7")], resourceVersion: "7"))
        _ = try await nextElement(of: &calls).respondWatch()
        let initial = try await recorder.next(1)
        XCTAssertEqual(initial, ["add ns/a initial"])
        for _ in 0..<100_000 where time.sleeperCount < 1 { await Task.yield() }
        time.advance(by: .seconds(30))
        let resync = try await recorder.next(1)
        XCTAssertEqual(resync, ["update ns/a 7->7"])
    }
}

/// Holds tasks until opened.
private final class Gate: Sendable {
    private let state = NIOLockedValueBox((open: false, waiters: [CheckedContinuation<Void, Never>]()))

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let open = state.withLockedValue { state in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if open { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLockedValue { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

import APIMachinery
import EtcdStore
import Foundation
import NIOConcurrencyHelpers
import NIOHTTP1
import Storage
import TestSupport
import XCTest

@testable import APIServer

/// Reads from the watch cache: a get or list right after an acknowledged write sees it, through the same
/// server or another on the same store; concurrent consistent reads share one revision request; the
/// resourceVersion rules; paged lists from a snapshot, and storage when the cache cannot answer.
final class ConsistentReadTests: XCTestCase {
    static let admin = UserInfo(name: "admin", uid: "u-1", groups: ["system:masters", "system:authenticated"])

    /// A MemoryStore that counts reads and can hold back progress notifications.
    final class CountingStore: KeyValueStore {
        let base = MemoryStore()
        private let counts = NIOLockedValueBox([String: Int]())
        /// When false, progress requests are accepted but never answered: the cache never learns it is current.
        let answerProgress: Bool
        /// How long a revision request takes, as an etcd round trip would.
        let revisionDelay: Duration

        init(answerProgress: Bool = true, revisionDelay: Duration = .zero) {
            self.answerProgress = answerProgress
            self.revisionDelay = revisionDelay
        }

        func count(_ name: String) -> Int { counts.withLockedValue { $0[name] ?? 0 } }
        /// Forgets the counts so far (the caches' first lists, reads made by writes).
        func reset() { counts.withLockedValue { $0 = [:] } }
        private func bump(_ name: String) { counts.withLockedValue { $0[name, default: 0] += 1 } }

        func currentRevision() async throws -> Revision {
            bump("currentRevision")
            if revisionDelay > .zero { try await Task.sleep(for: revisionDelay) }
            return try await base.currentRevision()
        }
        func requestProgress() async -> Bool { answerProgress ? await base.requestProgress() : true }
        func create(key: String, value: [UInt8], lease: LeaseID) async throws -> KeyValue {
            try await base.create(key: key, value: value, lease: lease)
        }
        func update(key: String, value: [UInt8], expectedRevision: Revision?, lease: LeaseID) async throws -> KeyValue {
            try await base.update(key: key, value: value, expectedRevision: expectedRevision, lease: lease)
        }
        func delete(key: String, expectedRevision: Revision?) async throws -> (deleted: KeyValue, revision: Revision) {
            try await base.delete(key: key, expectedRevision: expectedRevision)
        }
        func get(key: String) async throws -> KeyValue? {
            if key.contains("/configmaps/") { bump("get") }
            return try await base.get(key: key)
        }
        func range(start: String, end: String?, limit: Int, revision: Revision?) async throws -> RangeResult {
            if start.contains("/configmaps/") { bump("range") }
            if start.contains("/priorityclasses/") { bump("priorityclasses") }
            return try await base.range(start: start, end: end, limit: limit, revision: revision)
        }
        func watch(start: String, end: String?, afterRevision: Revision, progressNotify: Bool)
            -> AsyncThrowingStream<WatchUpdate, any Error>
        {
            base.watch(start: start, end: end, afterRevision: afterRevision, progressNotify: progressNotify)
        }
        func grantLease(ttlSeconds: Int64) async throws -> LeaseID { try await base.grantLease(ttlSeconds: ttlSeconds) }
        func keepAlive(lease: LeaseID) async throws { try await base.keepAlive(lease: lease) }
        func revokeLease(_ lease: LeaseID) async throws { try await base.revokeLease(lease) }
        func compact(revision: Revision) async throws { try await base.compact(revision: revision) }
    }

    func makeServer(
        _ storage: any KeyValueStore, admission: [any AdmissionPlugin] = [],
        cache: (inout WatchCacheConfiguration) -> Void = { _ in }
    ) async throws -> APIServer {
        var configuration = APIServer.Configuration()
        configuration.admission = AdmissionChain(plugins: admission)
        var watchCache = WatchCacheConfiguration()
        cache(&watchCache)
        configuration.watchCache = watchCache
        let server = APIServer(storage: storage, configuration: configuration)
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        return server
    }

    /// Waits until the server's config map cache has its objects, as a started server soon has.
    func waitForCache(_ server: APIServer) async throws {
        let cache = try XCTUnwrap(server.store(resource: "configmaps")?.watchCache)
        let deadline = ContinuousClock.now + .seconds(10)
        while !cache.readiness.ready {
            guard ContinuousClock.now < deadline else { return XCTFail("the config map cache never loaded") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    static func request(_ method: HTTPMethod, _ uri: String, body: JSON? = nil) -> HTTPRequest {
        var headers: HTTPHeaders = ["User-Agent": "consistent-read-tests/1.0"]
        if body != nil { headers.add(name: "Content-Type", value: "application/json") }
        return HTTPRequest(
            method: method, uri: uri, headers: headers, body: body?.encoded() ?? [], user: admin,
            remoteAddress: "127.0.0.9")
    }

    static func configMap(_ name: String, value: String = "v") -> JSON {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)], "data": ["k": .string(value)]]
    }

    func send(_ server: APIServer, _ method: HTTPMethod, _ uri: String, body: JSON? = nil) async throws -> (
        status: UInt, json: JSON
    ) {
        let response = await server.respond(to: Self.request(method, uri, body: body))
        guard case .bytes(let bytes) = response.body else { throw TestClusterError("expected a body") }
        return (response.status.code, try JSON.parse(bytes))
    }

    static func names(_ list: JSON) -> [String] { list["items"]?.arrayValue?.compactMap(\.name) ?? [] }

    /// Writes on one server and reads at once on both: every get and list sees the acknowledged write.
    /// `afterWrite` runs after each write, before its reads (to forget the reads writes make).
    func assertReadsFollowWrites(
        _ writer: APIServer, _ reader: APIServer, rounds: Int, afterWrite: () -> Void = {}
    ) async throws {
        let path = "/api/v1/namespaces/default/configmaps"
        for round in 0..<rounds {
            let name = "rw-\(round)"
            let created = try await send(writer, .POST, path, body: Self.configMap(name))
            XCTAssertEqual(created.status, 201)
            afterWrite()
            for server in [writer, reader] {
                let got = try await send(server, .GET, "\(path)/\(name)")
                XCTAssertEqual(got.status, 200, "round \(round): \(got.json)")
                XCTAssertEqual(got.json.resourceVersion, created.json.resourceVersion)
                let listed = try await send(server, .GET, path)
                XCTAssertTrue(Self.names(listed.json).contains(name), "round \(round): list misses \(name)")
            }
            var changed = created.json
            changed["data"] = ["k": .string("round-\(round)")]
            let updated = try await send(writer, .PUT, "\(path)/\(name)", body: changed)
            XCTAssertEqual(updated.status, 200)
            afterWrite()
            let reread = try await send(reader, .GET, "\(path)/\(name)")
            XCTAssertEqual(reread.json["data"]?["k"]?.stringValue, "round-\(round)")
            let deleted = try await send(writer, .DELETE, "\(path)/\(name)")
            XCTAssertEqual(deleted.status, 200)
            afterWrite()
            let gone = try await send(reader, .GET, "\(path)/\(name)")
            XCTAssertEqual(gone.status, 404, "round \(round): a deleted object was still served")
        }
    }

    func testReadsAfterAcknowledgedWritesOnThisAndAnotherServerComeFromTheCache() async throws {
        let storage = CountingStore()
        let first = try await makeServer(storage)
        let second = try await makeServer(storage)
        try await waitForCache(first)
        try await waitForCache(second)
        try await assertReadsFollowWrites(first, second, rounds: 20) { storage.reset() }
        // Every read above was served by a cache: storage saw no config map get or range.
        XCTAssertEqual(storage.count("get"), 0)
        XCTAssertEqual(storage.count("range"), 0)
    }

    func testConcurrentConsistentGetsShareRevisionRequests() async throws {
        let storage = CountingStore(revisionDelay: .milliseconds(50))
        let server = try await makeServer(storage)
        try await waitForCache(server)
        _ = try await send(server, .POST, "/api/v1/namespaces/default/configmaps", body: Self.configMap("shared"))
        storage.reset()
        let coalescer = try XCTUnwrap(server.store(resource: "configmaps")?.watchCache?.revisions)
        let before = coalescer.requests
        let statuses = await withTaskGroup(of: UInt.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    await server.respond(to: Self.request(.GET, "/api/v1/namespaces/default/configmaps/shared")).status
                        .code
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(statuses, Array(repeating: 200, count: 16))
        // One request serves everyone waiting when it starts; who came during it shares the next.
        XCTAssertLessThanOrEqual(coalescer.requests - before, 3)
        XCTAssertGreaterThanOrEqual(coalescer.requests - before, 1)
        XCTAssertEqual(storage.count("get"), 0)
    }

    func testResourceVersionRules() async throws {
        let storage = CountingStore()
        let server = try await makeServer(storage)
        try await waitForCache(server)
        let path = "/api/v1/namespaces/default/configmaps"
        let first = try await send(server, .POST, path, body: Self.configMap("a"))
        let firstVersion = first.json.resourceVersion ?? ""
        _ = try await send(server, .POST, path, body: Self.configMap("b"))
        storage.reset()

        // resourceVersion=0: the cache at once, no revision request.
        let revisionRequests = storage.count("currentRevision")
        let any = try await send(server, .GET, "\(path)?resourceVersion=0")
        XCTAssertEqual(Self.names(any.json), ["a", "b"])
        XCTAssertEqual(storage.count("currentRevision"), revisionRequests)
        // NotOlderThan an older revision: the cache, at its newer revision.
        let notOlder = try await send(
            server, .GET, "\(path)?resourceVersion=\(firstVersion)&resourceVersionMatch=NotOlderThan")
        XCTAssertEqual(Self.names(notOlder.json), ["a", "b"])
        XCTAssertEqual(storage.count("range"), 0)
        // Exact at a revision the cache no longer holds: storage, as of then.
        let exact = try await send(server, .GET, "\(path)?resourceVersion=\(firstVersion)&resourceVersionMatch=Exact")
        XCTAssertEqual(Self.names(exact.json), ["a"])
        XCTAssertEqual(exact.json["metadata"]?["resourceVersion"]?.stringValue, firstVersion)
        XCTAssertEqual(storage.count("range"), 1)
        // A revision storage has not reached yet: upstream's 504.
        let future = try await send(server, .GET, "\(path)?resourceVersion=999999&resourceVersionMatch=NotOlderThan")
        XCTAssertEqual(future.status, 504)
        XCTAssertEqual(future.json["message"]?.stringValue?.hasPrefix("Too large resource version: 999999"), true)
        let exactZero = try await send(server, .GET, "\(path)?resourceVersion=0&resourceVersionMatch=Exact")
        XCTAssertEqual(exactZero.status, 400)
        // Selectors filter the cached fields.
        let selected = try await send(server, .GET, "\(path)?fieldSelector=metadata.name%3Db")
        XCTAssertEqual(Self.names(selected.json), ["b"])
        XCTAssertEqual(storage.count("range"), 1)
    }

    func testPagedListsReadOneSnapshotAndStorageOnceItIsGone() async throws {
        let storage = CountingStore()
        let server = try await makeServer(storage)
        try await waitForCache(server)
        let path = "/api/v1/namespaces/default/configmaps"
        for name in ["p1", "p2", "p3", "p4", "p5"] {
            _ = try await send(server, .POST, path, body: Self.configMap(name))
        }
        storage.reset()
        let firstPage = try await send(server, .GET, "\(path)?limit=2")
        XCTAssertEqual(Self.names(firstPage.json), ["p1", "p2"])
        let token = try XCTUnwrap(firstPage.json["metadata"]?["continue"]?.stringValue)
        // Changes after the first page do not show in the later ones: they are the list's revision.
        _ = try await send(server, .DELETE, "\(path)/p3")
        _ = try await send(server, .POST, path, body: Self.configMap("p6"))
        storage.reset()
        var names: [String] = []
        var next: String? = token
        while let current = next {
            let page = try await send(server, .GET, "\(path)?limit=2&continue=\(current)")
            XCTAssertEqual(page.status, 200)
            XCTAssertEqual(page.json["metadata"]?["resourceVersion"], firstPage.json["metadata"]?["resourceVersion"])
            names += Self.names(page.json)
            next = page.json["metadata"]?["continue"]?.stringValue
        }
        XCTAssertEqual(names, ["p3", "p4", "p5"])
        XCTAssertEqual(storage.count("range"), 0)

        // Without snapshots the later pages read storage at the list's revision, until it is compacted.
        let noSnapshots = try await makeServer(storage) { $0.pagedListSnapshots = 0 }
        try await waitForCache(noSnapshots)
        let page = try await send(noSnapshots, .GET, "\(path)?limit=2")
        let again = try XCTUnwrap(page.json["metadata"]?["continue"]?.stringValue)
        _ = try await send(noSnapshots, .POST, path, body: Self.configMap("p7"))
        storage.reset()
        let fromStorage = try await send(noSnapshots, .GET, "\(path)?limit=2&continue=\(again)")
        XCTAssertEqual(Self.names(fromStorage.json), ["p4", "p5"])
        XCTAssertEqual(storage.count("range"), 1)
        try await storage.compact(revision: try await storage.currentRevision())
        let compacted = try await send(noSnapshots, .GET, "\(path)?limit=2&continue=\(again)")
        XCTAssertEqual(compacted.status, 410)
        XCTAssertEqual(
            compacted.json["message"]?.stringValue?.hasPrefix("The provided continue parameter is too old"), true)
    }

    func testAReadTheCacheCannotConfirmInTimeGoesToStorage() async throws {
        // Progress requests go unanswered: after a write elsewhere the cache cannot know it is current.
        let storage = CountingStore(answerProgress: false)
        let server = try await makeServer(storage) { $0.freshnessTimeout = .milliseconds(100) }
        try await waitForCache(server)
        _ = try await send(server, .POST, "/api/v1/namespaces/default/configmaps", body: Self.configMap("slow"))
        _ = try await send(
            server, .POST, "/api/v1/namespaces/default/secrets",
            body: ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "elsewhere"]])
        storage.reset()
        let got = try await send(server, .GET, "/api/v1/namespaces/default/configmaps/slow")
        XCTAssertEqual(got.status, 200)
        XCTAssertEqual(storage.count("get"), 1)
        // With the cache off every read is storage's.
        let uncached = try await makeServer(storage) { $0.windowCapacity = 0 }
        storage.reset()
        let uncachedRead = try await send(uncached, .GET, "/api/v1/namespaces/default/configmaps/slow")
        XCTAssertEqual(uncachedRead.status, 200)
        XCTAssertEqual(storage.count("get"), 1)
    }

    func testTwoServersOnOneEtcdMemberReadTheirWrites() async throws {
        try XCTSkipUnless(EtcdProcess.isInstalled, "needs /usr/bin/etcd (apt-get install etcd-server)")
        let member = try await EtcdProcess.start()
        defer { member.stop() }
        let stores = try (0..<2).map { _ in
            try EtcdStore(configuration: EtcdConfiguration(endpoints: EtcdConfiguration.parseServers(member.clientURL)))
        }
        defer { for store in stores { store.close() } }
        let first = try await makeServer(stores[0])
        let second = try await makeServer(stores[1])
        try await waitForCache(first)
        try await waitForCache(second)
        try await assertReadsFollowWrites(first, second, rounds: 10)
        try await assertReadsFollowWrites(second, first, rounds: 10)
    }

    func testPriorityAdmissionReadsClassesFromItsCache() async throws {
        let storage = CountingStore()
        let server = try await makeServer(storage, admission: [PriorityAdmission()])
        storage.reset()
        func createPod(_ name: String) async throws -> JSON {
            let pod: JSON = [
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)],
                "spec": ["containers": [["name": "c", "image": "busybox"]]],
            ]
            let created = try await send(server, .POST, "/api/v1/namespaces/default/pods", body: pod)
            XCTAssertEqual(created.status, 201, "\(created.json)")
            return created.json
        }
        for index in 0..<5 { _ = try await createPod("plain-\(index)") }
        // One list when the admission cache starts, not one per pod.
        XCTAssertEqual(storage.count("priorityclasses"), 1)
        let defaultClass: JSON = [
            "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": ["name": "everyone"],
            "value": 1000, "globalDefault": true,
        ]
        let created = try await send(server, .POST, "/apis/scheduling.k8s.io/v1/priorityclasses", body: defaultClass)
        XCTAssertEqual(created.status, 201, "\(created.json)")
        // The watch brings the new default class within a scheduling hop, as an informer would.
        var priority: Int64?
        for attempt in 0..<200 where priority != 1000 {
            priority = try await createPod("defaulted-\(attempt)")["spec"]?["priority"]?.intValue
            if priority != 1000 { try await Task.sleep(for: .milliseconds(5)) }
        }
        XCTAssertEqual(priority, 1000)
        XCTAssertEqual(storage.count("priorityclasses"), 1)
    }
}

import APIMachinery
import Component
import Foundation
import NIOHTTP1
import Storage
import TestSupport
import XCTest

@testable import APIServer

/// The shared per-resource watch cache, in process over a MemoryStore: one storage watch serves every
/// watcher, the window and the storage fallback behind it, selector transitions, slow watchers, 410s,
/// and bookmarks that follow storage's progress notifications on a quiet resource.
final class WatchCacheTests: XCTestCase {
    static let admin = UserInfo(name: "admin", uid: "u-1", groups: ["system:masters", "system:authenticated"])

    /// Counts the storage watches opened, by key prefix.
    final class CountingStore: ForwardingStore, @unchecked Sendable {
        private let lock = NSLock()
        private var counts: [String: Int] = [:]

        func watches(of prefix: String) -> Int { lock.withLock { counts[prefix] ?? 0 } }

        override func watch(start: String, end: String?, afterRevision: Revision, progressNotify: Bool)
            -> AsyncThrowingStream<WatchUpdate, any Error>
        {
            lock.withLock { counts[start, default: 0] += 1 }
            return super.watch(start: start, end: end, afterRevision: afterRevision, progressNotify: progressNotify)
        }
    }

    /// The lines of one watch response, read as they come.
    final class WatchReader: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [[String: Any]] = []
        private var ended = false
        private var task: Task<Void, Never>?

        init(_ response: HTTPResponse) throws {
            guard case .stream(let chunks) = response.body else { throw TestClusterError("a watch streams") }
            task = Task {
                for await chunk in chunks {
                    for line in chunk.split(separator: UInt8(ascii: "\n")) {
                        let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] ?? [:]
                        self.lock.withLock { self.lines.append(object) }
                    }
                }
                self.lock.withLock { self.ended = true }
            }
        }

        deinit { task?.cancel() }

        var snapshot: (lines: [[String: Any]], ended: Bool) { lock.withLock { (lines, ended) } }

        /// Waits for `count` lines (or the end) and returns every line so far.
        func wait(for count: Int, timeout: Duration = .seconds(10)) async throws -> [[String: Any]] {
            let deadline = ContinuousClock.now + timeout
            while true {
                let (lines, ended) = snapshot
                if lines.count >= count || ended { return lines }
                if ContinuousClock.now > deadline {
                    XCTFail("watch sent \(lines.count) of \(count) lines")
                    return lines
                }
                try await Task.sleep(for: .milliseconds(10))
            }
        }

        func waitForEnd(timeout: Duration = .seconds(10)) async throws -> [[String: Any]] {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                let (lines, ended) = snapshot
                if ended { return lines }
                try await Task.sleep(for: .milliseconds(10))
            }
            XCTFail("watch did not end")
            return snapshot.lines
        }

        func cancel() { task?.cancel() }
    }

    func makeServer(
        _ storage: any KeyValueStore, cache: (inout WatchCacheConfiguration) -> Void = { _ in }
    ) async throws -> APIServer {
        var configuration = APIServer.Configuration()
        var watchCache = WatchCacheConfiguration()
        cache(&watchCache)
        configuration.watchCache = watchCache
        let server = APIServer(storage: storage, configuration: configuration)
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        return server
    }

    static func request(_ method: HTTPMethod, _ uri: String, body: JSON? = nil) -> HTTPRequest {
        var headers: HTTPHeaders = ["User-Agent": "watch-cache-tests/1.0"]
        if body != nil { headers.add(name: "Content-Type", value: "application/json") }
        return HTTPRequest(
            method: method, uri: uri, headers: headers, body: body?.encoded() ?? [], user: admin,
            remoteAddress: "127.0.0.9")
    }

    static func configMap(_ name: String, labels: [String: String] = [:]) -> JSON {
        [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": .string(name), "labels": labelObject(labels)],
            "data": ["k": "v"],
        ]
    }

    static func labelObject(_ labels: [String: String]) -> JSON {
        var object = JSONObject()
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) { object[key] = .string(value) }
        return .object(object)
    }

    static func body(_ response: HTTPResponse) -> [UInt8] {
        guard case .bytes(let bytes) = response.body else { return [] }
        return bytes
    }

    @discardableResult
    func create(_ server: APIServer, _ name: String, namespace: String = "default", labels: [String: String] = [:])
        async throws -> String
    {
        let response = await server.respond(
            to: Self.request(
                .POST, "/api/v1/namespaces/\(namespace)/configmaps", body: Self.configMap(name, labels: labels)))
        XCTAssertEqual(response.status, .created, String(decoding: Self.body(response), as: UTF8.self))
        return try JSON.parse(Self.body(response)).resourceVersion ?? ""
    }

    func watch(_ server: APIServer, _ path: String) async throws -> WatchReader {
        let response = await server.respond(to: Self.request(.GET, path))
        XCTAssertEqual(response.status, .ok)
        return try WatchReader(response)
    }

    func ensureNamespace(_ server: APIServer, _ name: String) async {
        let body: JSON = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]]
        _ = await server.respond(to: Self.request(.POST, "/api/v1/namespaces", body: body))
    }

    static func names(_ lines: [[String: Any]]) -> [String] {
        lines.compactMap { (($0["object"] as? [String: Any])?["metadata"] as? [String: Any])?["name"] as? String }
    }

    static func types(_ lines: [[String: Any]]) -> [String] { lines.compactMap { $0["type"] as? String } }

    static func resourceVersion(_ line: [String: Any]) -> Int64? {
        ((line["object"] as? [String: Any])?["metadata"] as? [String: Any])?["resourceVersion"]
            .flatMap { $0 as? String }.flatMap { Int64($0) }
    }

    func testOneStorageWatchServesEveryWatcherOfAResourceInOrder() async throws {
        let storage = CountingStore()
        let server = try await makeServer(storage)
        await ensureNamespace(server, "other")
        let start = try await create(server, "before")
        let prefix = "/registry/configmaps/"
        XCTAssertEqual(storage.watches(of: prefix), 1, "the API server starts every cache")

        var readers: [(namespace: String?, reader: WatchReader)] = []
        for index in 0..<30 {
            let namespace: String? = [nil, "default", "other"][index % 3]
            let path =
                namespace.map { "/api/v1/namespaces/\($0)/configmaps" } ?? "/api/v1/configmaps"
            readers.append((namespace, try await watch(server, "\(path)?watch=true&resourceVersion=\(start)")))
        }
        for index in 0..<10 {
            try await create(server, "cm-\(index)", namespace: index.isMultiple(of: 2) ? "default" : "other")
        }
        for (namespace, reader) in readers {
            let expected = (0..<10).filter { index in
                namespace == nil || (namespace == "default") == index.isMultiple(of: 2)
            }.map { "cm-\($0)" }
            let lines = try await reader.wait(for: expected.count)
            XCTAssertEqual(Self.names(lines), expected, "namespace \(namespace ?? "all")")
            XCTAssertEqual(Set(Self.types(lines)), ["ADDED"])
            let versions = lines.compactMap(Self.resourceVersion)
            XCTAssertEqual(versions, versions.sorted())
        }
        XCTAssertEqual(storage.watches(of: prefix), 1, "thirty watchers share one storage watch")
        XCTAssertEqual(storage.watches(of: "/registry/configmaps/default/"), 0)
    }

    func testAWatcherBehindTheWindowReadsStoragesHistory() async throws {
        let storage = CountingStore()
        let server = try await makeServer(storage) {
            $0.windowCapacity = 5
            $0.windowUpperBound = 5
        }
        let start = try await create(server, "first")
        let live = try await watch(server, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=\(start)")
        for index in 0..<20 { try await create(server, "cm-\(index)") }
        let liveLines = try await live.wait(for: 20)
        XCTAssertEqual(Self.names(liveLines), (0..<20).map { "cm-\($0)" })

        // The window holds the last five changes; the watcher from `start` is older and reads history instead.
        let behind = try await watch(
            server, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=\(start)")
        let behindLines = try await behind.wait(for: 20)
        XCTAssertEqual(Self.names(behindLines), (0..<20).map { "cm-\($0)" })
        XCTAssertEqual(storage.watches(of: "/registry/configmaps/default/"), 1, "its own storage watch")

        // One within the window is served by the cache alone.
        let lines = live.snapshot.lines
        let recent = try XCTUnwrap(Self.resourceVersion(lines[16]))
        let inWindow = try await watch(
            server, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=\(recent)")
        let windowLines = try await inWindow.wait(for: 3)
        XCTAssertEqual(Self.names(windowLines), ["cm-17", "cm-18", "cm-19"])
        XCTAssertEqual(storage.watches(of: "/registry/configmaps/default/"), 1)
        XCTAssertEqual(storage.watches(of: "/registry/configmaps/"), 1)
    }

    func testSelectorsTurnChangesAcrossTheirBoundaryIntoAddedAndDeleted() async throws {
        let server = try await makeServer(CountingStore())
        let start = try await create(server, "a", labels: ["tier": "web"])
        let all = try await watch(server, "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=\(start)")
        let web = try await watch(
            server, "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=\(start)&labelSelector=tier%3Dweb")
        let byName = try await watch(
            server,
            "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=\(start)&fieldSelector=metadata.name%3Da")
        for patch in [["tier": "db"], ["tier": "web"], ["tier": "web", "x": "1"]] {
            let body: JSON = ["metadata": ["labels": Self.labelObject(patch)]]
            var request = Self.request(.PATCH, "/api/v1/namespaces/default/configmaps/a", body: body)
            request.headers.replaceOrAdd(name: "Content-Type", value: "application/merge-patch+json")
            let response = await server.respond(to: request)
            XCTAssertEqual(response.status, .ok)
        }
        try await create(server, "b", labels: ["tier": "db"])
        _ = await server.respond(to: Self.request(.DELETE, "/api/v1/namespaces/default/configmaps/a"))

        let allLines = try await all.wait(for: 5)
        XCTAssertEqual(Self.types(allLines), ["MODIFIED", "MODIFIED", "MODIFIED", "ADDED", "DELETED"])
        let webLines = try await web.wait(for: 4)
        XCTAssertEqual(Self.types(webLines), ["DELETED", "ADDED", "MODIFIED", "DELETED"])
        let byNameLines = try await byName.wait(for: 4)
        XCTAssertEqual(Self.types(byNameLines), ["MODIFIED", "MODIFIED", "MODIFIED", "DELETED"])
        // The DELETED a selector sends carries the object as it is now, at the revision of the change.
        let leaving = try XCTUnwrap(web.snapshot.lines.first)
        XCTAssertEqual(
            ((leaving["object"] as? [String: Any])?["metadata"] as? [String: Any])?["labels"] as? [String: String],
            ["tier": "db"])
    }

    func testAWatcherThatStopsReadingIsEndedAndResumesWithoutLoss() async throws {
        let server = try await makeServer(CountingStore()) {
            $0.windowCapacity = 5
            $0.windowUpperBound = 5
            $0.watcherBacklog = 10
        }
        let start = try await create(server, "first")
        let response = await server.respond(
            to: Self.request(.GET, "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=\(start)"))
        guard case .stream(let chunks) = response.body else { return XCTFail("a watch streams") }
        for index in 0..<40 { try await create(server, "cm-\(index)") }
        // Nothing read the stream while 40 changes came: it holds at most window + backlog, then ends.
        var received: [[String: Any]] = []
        var writes = 0
        for await chunk in chunks {
            writes += 1
            for line in chunk.split(separator: UInt8(ascii: "\n")) {
                received.append(try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]))
            }
        }
        XCTAssertEqual(writes, 1, "the backlog goes out in one write")
        XCTAssertEqual(received.count, 15)
        XCTAssertEqual(Self.names(received), (0..<15).map { "cm-\($0)" })

        // The client watches again from the last resourceVersion it read, as clients do when a watch ends,
        // and ends up with every change once, in order.
        var names = Self.names(received)
        var last = try XCTUnwrap(received.last.flatMap(Self.resourceVersion))
        for _ in 0..<10 where names.count < 40 {
            let again = try await watch(
                server, "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=\(last)&timeoutSeconds=1")
            let lines = try await again.waitForEnd()
            names += Self.names(lines)
            last = lines.compactMap(Self.resourceVersion).last ?? last
        }
        XCTAssertEqual(names, (0..<40).map { "cm-\($0)" })
    }

    func testACompactedResourceVersionBehindTheWindowGets410() async throws {
        let storage = CountingStore()
        let server = try await makeServer(storage) {
            $0.windowCapacity = 1
            $0.windowUpperBound = 1
        }
        let old = try await create(server, "old")
        try await create(server, "middle")
        let newest = try await create(server, "new")
        try await storage.compact(revision: try XCTUnwrap(Int64(newest)))

        let gone = try await watch(server, "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=\(old)")
        let lines = try await gone.waitForEnd()
        XCTAssertEqual(Self.types(lines), ["ERROR"])
        let status = try XCTUnwrap(lines.first?["object"] as? [String: Any])
        XCTAssertEqual(status["code"] as? Int, 410)
        XCTAssertEqual(status["reason"] as? String, "Expired")

        let fresh = try await watch(server, "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=\(newest)")
        try await create(server, "after")
        let freshLines = try await fresh.wait(for: 1)
        XCTAssertEqual(Self.names(freshLines), ["after"])
    }

    func testInitialEventsEndWithABookmarkThenChangesFollow() async throws {
        let server = try await makeServer(CountingStore())
        for name in ["a", "b"] { try await create(server, name) }
        let reader = try await watch(
            server,
            "/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true&allowWatchBookmarks=true"
                + "&resourceVersionMatch=NotOlderThan")
        try await create(server, "c")
        let lines = try await reader.wait(for: 4)
        XCTAssertEqual(Self.types(lines), ["ADDED", "ADDED", "BOOKMARK", "ADDED"])
        XCTAssertEqual(Self.names(lines), ["a", "b", "c"])
        let bookmark = (lines[2]["object"] as? [String: Any])?["metadata"] as? [String: Any]
        XCTAssertEqual((bookmark?["annotations"] as? [String: String])?["k8s.io/initial-events-end"], "true")
    }

    func testBookmarksOfAQuietResourceFollowStoragesProgress() async throws {
        let server = try await makeServer(CountingStore()) { $0.bookmarkInterval = .milliseconds(300) }
        let start = try await create(server, "only")
        try await expectBookmarksReachWritesElsewhere(server, from: start)
    }

    func testAWatcherBehindTheWindowGetsBookmarksFromProgressToo() async throws {
        let storage = CountingStore()
        let server = try await makeServer(storage) {
            $0.bookmarkInterval = .milliseconds(300)
            $0.windowCapacity = 1
            $0.windowUpperBound = 1
        }
        let start = try await create(server, "first")
        try await create(server, "second")
        let third = try await create(server, "third")
        // Under load the cache may not yet have moved its one-event window past "first", and then serves the
        // watch below itself: wait until a cache watcher from "third" sees a later write in another namespace.
        let caught = try await watch(server, "/api/v1/configmaps?watch=1&resourceVersion=\(third)")
        try await create(server, "fourth", namespace: "kube-system")
        let caughtLines = try await caught.wait(for: 1)
        XCTAssertEqual(Self.names(caughtLines), ["fourth"])
        try await expectBookmarksReachWritesElsewhere(server, from: start, skipping: ["second", "third"])
        XCTAssertEqual(storage.watches(of: "/registry/configmaps/default/"), 1, "served by a storage watch")
    }

    /// Watches ConfigMaps with bookmarks from `start` while Secrets are written: storage's progress
    /// notifications (every second from the in-process stores) carry the watch's bookmarks past them.
    func expectBookmarksReachWritesElsewhere(_ server: APIServer, from start: String, skipping names: [String] = [])
        async throws
    {
        let reader = try await watch(
            server, "/api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion=\(start)")
        var latest: Int64 = 0
        for index in 0..<3 {
            let body: JSON = [
                "apiVersion": "v1", "kind": "Secret", "metadata": ["name": .string("s-\(index)")],
            ]
            let response = await server.respond(
                to: Self.request(.POST, "/api/v1/namespaces/default/secrets", body: body))
            latest = Int64(try JSON.parse(Self.body(response)).resourceVersion ?? "") ?? 0
        }
        let deadline = ContinuousClock.now + .seconds(10)
        var bookmarked: Int64 = 0
        while bookmarked < latest, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            bookmarked =
                reader.snapshot.lines.filter { $0["type"] as? String == "BOOKMARK" }
                .compactMap(Self.resourceVersion).max() ?? 0
        }
        XCTAssertGreaterThanOrEqual(bookmarked, latest, "a bookmark reaches the revision of the last Secret")
        XCTAssertEqual(Self.names(reader.snapshot.lines.filter { $0["type"] as? String != "BOOKMARK" }), names)
    }

    func testWatchCacheFlagsTurnCachesOffOrSizeThemPerResource() throws {
        func parse(_ arguments: [String]) throws -> WatchCacheConfiguration? {
            var flags = FlagSet(APIServerCommand.flags)
            try flags.parse(arguments)
            return try APIServerCommand.watchCache(flags)
        }
        var configuration = APIServer.Configuration()
        configuration.watchCache = try parse([
            "--default-watch-cache-size=50", "--watch-cache-sizes=configmaps#0,deployments.apps#500",
        ])
        let server = APIServer(storage: MemoryStore(), configuration: configuration)
        XCTAssertNil(server.store(resource: "configmaps")?.watchCache)
        XCTAssertEqual(server.store(resource: "secrets")?.watchCache?.watcherBuffer, 50 + 10_000)
        XCTAssertEqual(
            server.store(group: "apps", resource: "deployments")?.watchCache?.watcherBuffer, 500 + 10_000)

        XCTAssertNil(try parse(["--watch-cache=false"]))
        XCTAssertNil(try parse(["--default-watch-cache-size=0"])?.resource("pods", group: ""))
        for (value, message) in [
            ("pods", "invalid value of watch cache size: pods"),
            ("pods#many", "invalid size of watch cache size: pods#many"),
            ("pods#-1", "watch cache size cannot be negative: pods#-1"),
        ] {
            XCTAssertThrowsError(try parse(["--watch-cache-sizes=\(value)"])) { error in
                XCTAssertEqual((error as? FlagError)?.message, message)
            }
        }
    }
}

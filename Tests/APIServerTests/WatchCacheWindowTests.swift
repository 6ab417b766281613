import APIMachinery
import Component
import NIOCore
import Storage
import XCTest

@testable import APIServer

/// The watch cache's window sizes itself by history, as upstream's: it doubles while its oldest change is
/// fresh, halves once its newest quarter is stale, and a size given on the command line fixes it.
final class WatchCacheWindowTests: XCTestCase {
    private typealias Cache = WatchCacheTests

    func testAWindowFullOfFreshChangesGrowsSoAWatcherBehindItIsServedByTheCache() async throws {
        let storage = Cache.CountingStore()
        var configuration = APIServer.Configuration()
        var watchCache = WatchCacheConfiguration()
        watchCache.windowCapacity = 5
        configuration.watchCache = watchCache
        let server = APIServer(storage: storage, configuration: configuration)
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        func create(_ name: String) async throws -> String {
            let response = await server.respond(
                to: Cache.request(.POST, "/api/v1/namespaces/default/configmaps", body: Cache.configMap(name)))
            XCTAssertEqual(response.status, .created)
            return try JSON.parse(Cache.body(response)).resourceVersion ?? ""
        }
        let start = try await create("first")
        for index in 0..<20 { _ = try await create("cm-\(index)") }

        let response = await server.respond(
            to: Cache.request(.GET, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=\(start)"))
        let behind = try Cache.WatchReader(response)
        let lines = try await behind.wait(for: 20)
        XCTAssertEqual(Cache.names(lines), (0..<20).map { "cm-\($0)" })
        XCTAssertEqual(storage.watches(of: "/registry/configmaps/default/"), 0, "the cache serves it")
        XCTAssertEqual(
            server.store(resource: "configmaps")?.watchCache?.watcherBuffer, 40 + 10_000, "5 doubled three times")
    }

    func testResizingDoublesWhileFreshAndHalvesWhenTheNewestQuarterIsStale() {
        var configuration = WatchCacheConfiguration()
        configuration.windowCapacity = 4
        configuration.windowUpperBound = 16
        var state = WatchCache.State()
        state.capacity = 4
        let start = ContinuousClock.now
        for second in 0..<4 { state.arrivals.append(start + .seconds(second)) }
        state.window = CircularBuffer(repeating: Self.event, count: 4)

        state.resizeWindow(now: start + .seconds(10), configuration: configuration)
        XCTAssertEqual(state.capacity, 8)
        state.resizeWindow(now: start + .seconds(10), configuration: configuration)
        XCTAssertEqual(state.capacity, 8, "a window with room does not resize")

        for second in 4..<8 { state.arrivals.append(start + .seconds(second)) }
        state.window = CircularBuffer(repeating: Self.event, count: 8)
        state.resizeWindow(now: start + .seconds(10), configuration: configuration)
        XCTAssertEqual(state.capacity, 16)
        state.capacity = 16
        state.resizeWindow(now: start + .seconds(10), configuration: configuration)
        XCTAssertEqual(state.capacity, 16, "never past the upper bound")

        state.capacity = 8
        state.resizeWindow(now: start + .seconds(7 + 75) + .milliseconds(1), configuration: configuration)
        XCTAssertEqual(state.capacity, 4, "the newest two of eight are older than 75 s")
        state.resizeWindow(now: start + .seconds(1_000), configuration: configuration)
        XCTAssertEqual(state.capacity, 4, "never below the configured size")
    }

    func testSizesOnTheCommandLineFixTheWindow() throws {
        func parse(_ arguments: [String]) throws -> WatchCacheConfiguration? {
            var flags = FlagSet(APIServerCommand.flags)
            try flags.parse(arguments)
            return try APIServerCommand.watchCache(flags)
        }
        let defaults = try XCTUnwrap(try parse([])?.resource("pods", group: ""))
        XCTAssertEqual(defaults.windowCapacity, 100)
        XCTAssertEqual(defaults.windowUpperBound, 100 * 1024)
        let given = try XCTUnwrap(try parse(["--default-watch-cache-size=10"])?.resource("pods", group: ""))
        XCTAssertEqual(given.windowUpperBound, 10)
        let perResource = try XCTUnwrap(try parse(["--watch-cache-sizes=pods#300"])?.resource("pods", group: ""))
        XCTAssertEqual(perResource.windowCapacity, 300)
        XCTAssertEqual(perResource.windowUpperBound, 300)
    }

    func testAWatcherIsSentTheWindowFromItsRevisionOn() {
        var state = WatchCache.State()
        for revision in stride(from: Revision(10), through: 50, by: 10) {
            state.window.append(Self.event(revision: revision))
        }
        func first(_ after: Revision) -> Revision? {
            let index = state.firstEvent(after: after)
            return index == state.window.endIndex ? nil : state.window[index].revision
        }
        XCTAssertEqual(first(0), 10)
        XCTAssertEqual(first(10), 20)
        XCTAssertEqual(first(35), 40)
        XCTAssertEqual(first(49), 50)
        XCTAssertNil(first(50))
        XCTAssertNil(first(99))
        XCTAssertEqual(WatchCache.State().firstEvent(after: 3), WatchCache.State().window.endIndex)
    }

    private static let event = event(revision: 1)

    private static let configMaps = APIServer(storage: MemoryStore(), configuration: APIServer.Configuration())
        .store(resource: "configmaps")!.definition

    private static func event(revision: Revision) -> CachedEvent {
        let value = KeyValue(
            key: "/registry/configmaps/default/a",
            value: Array(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}"#.utf8),
            createRevision: 1, modRevision: revision, lease: 0)
        return CachedEvent(WatchEvent(kind: .put, current: value, previous: nil), definition: configMaps)!
    }
}

import APIMachinery
import NIOHTTP1
import Storage
import TestSupport
import XCTest

@testable import APIServer

/// Updates and deletes start from the watch cache's copy instead of reading storage, and a stale copy
/// never decides an answer: storage's revision check sends every such write back to storage's copy.
final class CachedWriteTests: XCTestCase {
    typealias CountingStore = ConsistentReadTests.CountingStore
    static let path = "/api/v1/namespaces/default/configmaps"

    func makeServer(_ storage: CountingStore) async throws -> APIServer {
        var configuration = APIServer.Configuration()
        configuration.admission = AdmissionChain(plugins: [])
        let server = APIServer(storage: storage, configuration: configuration)
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        let cache = try XCTUnwrap(server.store(resource: "configmaps")?.watchCache)
        let deadline = ContinuousClock.now + .seconds(10)
        while !cache.readiness.ready {
            guard ContinuousClock.now < deadline else { throw TestClusterError("the config map cache never loaded") }
            try await Task.sleep(for: .milliseconds(5))
        }
        return server
    }

    func send(_ server: APIServer, _ method: HTTPMethod, _ uri: String, body: JSON? = nil, patch: Bool = false)
        async throws -> (status: UInt, json: JSON)
    {
        var headers: HTTPHeaders = ["User-Agent": "cached-write-tests/1.0"]
        if body != nil {
            headers.add(name: "Content-Type", value: patch ? "application/merge-patch+json" : "application/json")
        }
        let request = HTTPRequest(
            method: method, uri: uri, headers: headers, body: body?.encoded() ?? [], user: ConsistentReadTests.admin,
            remoteAddress: "127.0.0.9")
        let response = await server.respond(to: request)
        guard case .bytes(let bytes) = response.body else { throw TestClusterError("expected a body, got a stream") }
        return (response.status.code, try JSON.parse(bytes))
    }

    /// Waits until the config map cache has reached `revision`.
    func waitForCache(_ cache: WatchCache, at revision: String?) async throws {
        let target = try XCTUnwrap(revision.flatMap { Revision($0) })
        let deadline = ContinuousClock.now + .seconds(10)
        while cache.readiness.revision < target {
            guard ContinuousClock.now < deadline else { return XCTFail("the cache never reached \(target)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func testUpdatesAndDeletesStartFromTheCacheWithoutReadingStorage() async throws {
        let storage = CountingStore()
        let server = try await makeServer(storage)
        let cache = try XCTUnwrap(server.store(resource: "configmaps")?.watchCache)
        let created = try await send(server, .POST, Self.path, body: ConsistentReadTests.configMap("fresh"))
        XCTAssertEqual(created.status, 201)
        try await waitForCache(cache, at: created.json.resourceVersion)
        storage.reset()

        let patched = try await send(
            server, .PATCH, "\(Self.path)/fresh", body: ["data": ["k": "patched"]], patch: true)
        XCTAssertEqual(patched.status, 200, "\(patched.json)")
        XCTAssertEqual(patched.json["data"]?["k"], "patched")
        try await waitForCache(cache, at: patched.json.resourceVersion)
        var changed = patched.json
        changed["data"] = ["k": "put"]
        let updated = try await send(server, .PUT, "\(Self.path)/fresh", body: changed)
        XCTAssertEqual(updated.status, 200, "\(updated.json)")
        try await waitForCache(cache, at: updated.json.resourceVersion)
        let deleted = try await send(server, .DELETE, "\(Self.path)/fresh")
        XCTAssertEqual(deleted.status, 200, "\(deleted.json)")
        XCTAssertEqual(storage.count("get"), 0, "a write read storage although the cache had the object")
        let gone = try await storage.base.get(key: "/registry/configmaps/default/fresh")
        XCTAssertNil(gone)
    }

    /// The cache is made to hold the object one write behind storage: every verb must answer as storage's
    /// copy says, never as the stale one does.
    func testAStaleCachedCopyNeverDecidesAWrite() async throws {
        let storage = CountingStore()
        let server = try await makeServer(storage)
        let cache = try XCTUnwrap(server.store(resource: "configmaps")?.watchCache)
        let key = "/registry/configmaps/default/stale"

        /// Creates `stale` and changes it once, then puts the created copy back into the cache.
        func staleObject(data: String) async throws -> (old: JSON, current: JSON) {
            _ = try? await storage.base.delete(key: key, expectedRevision: nil)
            let created = try await send(server, .POST, Self.path, body: ConsistentReadTests.configMap("stale"))
            XCTAssertEqual(created.status, 201, "\(created.json)")
            try await waitForCache(cache, at: created.json.resourceVersion)
            let old = try XCTUnwrap(cache.currentObject(key))
            let current = try await send(
                server, .PATCH, "\(Self.path)/stale", body: ["data": ["k": .string(data)]], patch: true)
            XCTAssertEqual(current.status, 200, "\(current.json)")
            try await waitForCache(cache, at: current.json.resourceVersion)
            cache.state.withLockedValue { $0.objects.put(old) }
            XCTAssertEqual(cache.currentObject(key)?.revision, old.revision)
            return (old.object, current.json)
        }

        // A PUT naming storage's current resourceVersion succeeds although the cache holds an older one.
        var (old, current) = try await staleObject(data: "second")
        var body = current
        body["data"] = ["k": "third"]
        let put = try await send(server, .PUT, "\(Self.path)/stale", body: body)
        XCTAssertEqual(put.status, 200, "\(put.json)")
        XCTAssertEqual(put.json["data"]?["k"], "third")

        // A PUT naming the stale resourceVersion is a conflict, as storage's copy says.
        (old, current) = try await staleObject(data: "second")
        let stalePut = try await send(server, .PUT, "\(Self.path)/stale", body: old)
        XCTAssertEqual(stalePut.status, 409, "\(stalePut.json)")

        // A PUT without resourceVersion that equals the stale copy is a change from storage's, and is written.
        (old, current) = try await staleObject(data: "second")
        var unversioned = old
        unversioned.setMeta("resourceVersion", nil)
        let rewrite = try await send(server, .PUT, "\(Self.path)/stale", body: unversioned)
        XCTAssertEqual(rewrite.status, 200, "\(rewrite.json)")
        XCTAssertEqual(rewrite.json["data"]?["k"], "v")
        let storedValue = try await storage.base.get(key: key)
        let stored = try XCTUnwrap(storedValue)
        XCTAssertEqual(try JSON.parse(stored.value)["data"]?["k"], "v")

        // A patch applies to storage's copy: the field the stale copy lacks survives.
        (old, current) = try await staleObject(data: "second")
        let patch = try await send(
            server, .PATCH, "\(Self.path)/stale", body: ["data": ["other": "x"]], patch: true)
        XCTAssertEqual(patch.status, 200, "\(patch.json)")
        XCTAssertEqual(patch.json["data"], ["k": "second", "other": "x"])

        // A delete whose precondition names storage's resourceVersion succeeds.
        (old, current) = try await staleObject(data: "second")
        let preconditions: JSON = [
            "kind": "DeleteOptions", "apiVersion": "v1",
            "preconditions": ["resourceVersion": .string(current.resourceVersion ?? "")],
        ]
        let deleted = try await send(server, .DELETE, "\(Self.path)/stale", body: preconditions)
        XCTAssertEqual(deleted.status, 200, "\(deleted.json)")
        let gone = try await storage.base.get(key: key)
        XCTAssertNil(gone)
    }
    /// The cache keeps the objects this server writes as the registry built them (no parse of the stored
    /// bytes): they must be what parsing those bytes gives, key order included.
    func testTheCacheHoldsWhatStorageHoldsForThisServersWrites() async throws {
        let storage = CountingStore()
        let server = try await makeServer(storage)
        let cache = try XCTUnwrap(server.store(resource: "configmaps")?.watchCache)
        var body = ConsistentReadTests.configMap("written", value: "ü 1")
        body["data"] = ["b": "2", "a": "ü 1"]
        body.setMeta("labels", ["z": "1", "a": "2"])
        let created = try await send(server, .POST, Self.path, body: body)
        XCTAssertEqual(created.status, 201, "\(created.json)")
        try await waitForCache(cache, at: created.json.resourceVersion)
        let key = "/registry/configmaps/default/written"
        let storedValue = try await storage.base.get(key: key)
        let stored = try RegistryStore.decode(try XCTUnwrap(storedValue))
        let cached = try XCTUnwrap(cache.currentObject(key))
        XCTAssertEqual(cached.object, stored)
        XCTAssertEqual(cached.object.encoded(), stored.encoded(), "key order differs")
        XCTAssertEqual(cached.fields.labels, ["z": "1", "a": "2"])
        // The hand-over is taken once, for exactly the bytes written at that key.
        let written = WrittenObjects()
        let value = try XCTUnwrap(storedValue)
        var shape = stored
        shape.setMeta("resourceVersion", nil)
        written.note(key: key, bytes: value.value, object: shape)
        var other = value
        other.key = key + "x"
        XCTAssertNil(written.take(other))
        var changed = value
        changed.value.append(UInt8(ascii: " "))
        XCTAssertNil(written.take(changed))
        XCTAssertEqual(written.take(value), stored)
        XCTAssertNil(written.take(value))
    }
}

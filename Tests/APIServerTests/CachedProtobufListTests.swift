import APIMachinery
import NIOHTTP1
import Storage
import TestSupport
import XCTest

@testable import APIServer

/// Protobuf lists served from the watch cache reuse each object's message: the bytes must be what encoding
/// the whole list from its objects gives, the first time and every later time.
final class CachedProtobufListTests: XCTestCase {
    func testCachedProtobufListsEqualListsEncodedFromTheObjects() async throws {
        var configuration = APIServer.Configuration()
        configuration.admission = AdmissionChain(plugins: [])
        let server = APIServer(storage: MemoryStore(), configuration: configuration)
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        let cache = try XCTUnwrap(server.store(resource: "configmaps")?.watchCache)
        let path = "/api/v1/namespaces/default/configmaps"
        var last: JSON = .null
        for index in 0..<5 {
            var body = ConsistentReadTests.configMap("pb-\(index)", value: "v\(index)")
            body.setMeta("labels", ["index": .string(String(index))])
            last = try await respond(server, .POST, path, body: body).json
        }
        let deadline = ContinuousClock.now + .seconds(10)
        let written = try XCTUnwrap(last.resourceVersion.flatMap { Revision($0) })
        while cache.readiness.revision < written || !cache.readiness.ready {
            guard ContinuousClock.now < deadline else { throw TestClusterError("the cache never caught up") }
            try await Task.sleep(for: .milliseconds(5))
        }

        let query = "?resourceVersion=0&labelSelector=index"
        let first = try await respond(server, .GET, path + query, protobuf: true)
        let second = try await respond(server, .GET, path + query, protobuf: true)
        XCTAssertEqual(first.bytes, second.bytes, "a list from kept messages differs from the first")
        let json = try await respond(server, .GET, path + query).json
        let items = try XCTUnwrap(json["items"]?.arrayValue)
        XCTAssertEqual(items.count, 5)
        let expected = try KubernetesProtobuf.encodeList(
            apiVersion: "v1", kind: "ConfigMapList", metadata: try XCTUnwrap(json["metadata"]?.objectValue),
            items: items)
        XCTAssertEqual(first.bytes, expected)
        let decoded = try KubernetesProtobuf.decode(first.bytes).object
        XCTAssertEqual(decoded["items"]?.arrayValue?.compactMap(\.name), items.compactMap(\.name))
    }

    /// Protobuf watchers of one resource share each event's encoding: two watchers from the same revision
    /// get the same frames, which decode to the objects.
    func testProtobufWatchersShareEachEventsEncoding() async throws {
        var configuration = APIServer.Configuration()
        configuration.admission = AdmissionChain(plugins: [])
        let server = APIServer(storage: MemoryStore(), configuration: configuration)
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        let path = "/api/v1/namespaces/default/configmaps"
        let first = try await respond(server, .POST, path, body: ConsistentReadTests.configMap("w-0")).json
        let start = try XCTUnwrap(first.resourceVersion.flatMap { Int64($0) })
        for index in 1..<3 {
            _ = try await respond(server, .POST, path, body: ConsistentReadTests.configMap("w-\(index)"))
        }
        var bodies: [[UInt8]] = []
        for _ in 0..<2 {
            var headers: HTTPHeaders = ["Accept": KubernetesProtobuf.mediaType + ";stream=watch"]
            headers.add(name: "User-Agent", value: "cached-protobuf-tests/1.0")
            let request = HTTPRequest(
                method: .GET, uri: "\(path)?watch=1&resourceVersion=\(start - 1)&timeoutSeconds=1", headers: headers,
                body: [], user: ConsistentReadTests.admin, remoteAddress: "127.0.0.9")
            guard case .stream(let chunks) = await server.respond(to: request).body else {
                throw TestClusterError("a watch streams")
            }
            var body: [UInt8] = []
            for await chunk in chunks { body += chunk }
            bodies.append(body)
        }
        XCTAssertEqual(bodies.first, bodies.last)
        var buffer = try XCTUnwrap(bodies.first)
        let events = try KubernetesProtobuf.decodeWatchFrames(&buffer)
        XCTAssertEqual(events.map(\.type), ["ADDED", "ADDED", "ADDED"])
        XCTAssertEqual(events.compactMap { $0.object.name }, ["w-0", "w-1", "w-2"])
    }

    private func respond(
        _ server: APIServer, _ method: HTTPMethod, _ uri: String, body: JSON? = nil, protobuf: Bool = false
    )
        async throws -> (bytes: [UInt8], json: JSON)
    {
        var headers: HTTPHeaders = ["User-Agent": "cached-protobuf-tests/1.0"]
        if body != nil { headers.add(name: "Content-Type", value: "application/json") }
        if protobuf { headers.add(name: "Accept", value: KubernetesProtobuf.mediaType) }
        let request = HTTPRequest(
            method: method, uri: uri, headers: headers, body: body?.encoded() ?? [], user: ConsistentReadTests.admin,
            remoteAddress: "127.0.0.9")
        let response = await server.respond(to: request)
        guard case .bytes(let bytes) = response.body else { throw TestClusterError("expected a body") }
        XCTAssertLessThan(response.status.code, 300, String(decoding: bytes, as: UTF8.self))
        return (bytes, protobuf ? .null : try JSON.parse(bytes))
    }
}

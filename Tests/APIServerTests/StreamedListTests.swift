import APIMachinery
import NIOHTTP1
import Storage
import TestSupport
import XCTest

@testable import APIServer

/// Lists larger than one chunk are encoded while they are written: the chunks must join into exactly the
/// bytes of the list encoded whole, in JSON, protobuf, Table and PartialObjectMetadataList, from the watch
/// cache and from storage; lists that fit one chunk stay whole bodies with a length.
final class StreamedListTests: XCTestCase {
    static let path = "/api/v1/namespaces/default/configmaps"
    static let count = 300

    func testLargeListsFromTheCacheAreChunksOfTheWholeList() async throws {
        let server = try await Self.server(watchCache: true)
        let items = try await Self.fill(server)
        try await assertStreamedLists(server, items: items, query: "?resourceVersion=0")
    }

    func testLargeListsFromStorageAreChunksOfTheWholeList() async throws {
        let server = try await Self.server(watchCache: false)
        let items = try await Self.fill(server)
        try await assertStreamedLists(server, items: items, query: "")
    }

    func testSmallListsAndPagesThatFitOneChunkStayWholeBodies() async throws {
        let server = try await Self.server(watchCache: true)
        _ = try await Self.fill(server)
        for accept in ["application/json", KubernetesProtobuf.mediaType] {
            let response = await server.respond(to: Self.request(.GET, Self.path + "?limit=5", accept: accept))
            guard case .bytes(let bytes) = response.body else { return XCTFail("a 5-item page is one body") }
            XCTAssertLessThan(bytes.count, ListChunks.chunkBytes)
        }
    }

    private func assertStreamedLists(_ server: APIServer, items: [JSON], query: String) async throws {
        let metadata = try await listMetadata(server, query: query)
        let json = try await streamedBody(server, query: query, accept: "application/json")
        let whole: JSON = [
            "kind": "ConfigMapList", "apiVersion": "v1", "metadata": .object(metadata), "items": .array(items),
        ]
        XCTAssertTrue(json == whole.encoded(), "the streamed list differs from the list encoded whole")

        let protobuf = try await streamedBody(server, query: query, accept: KubernetesProtobuf.mediaType)
        let protobufWhole = try KubernetesProtobuf.encodeList(
            apiVersion: "v1", kind: "ConfigMapList", metadata: metadata, items: items)
        XCTAssertTrue(protobuf == protobufWhole, "the streamed protobuf list differs from the list encoded whole")

        // Metadata-only lists are compared with their own items encoded whole (their objects are decoded, so
        // metadata fields may come in another order than in the stored bytes a JSON list copies).
        let listed = try XCTUnwrap(try JSON.parse(json)["items"]?.arrayValue)
        let partialType = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
        let partial = try await streamedBody(server, query: query, accept: partialType)
        let partialItems = try XCTUnwrap(try JSON.parse(partial)["items"]?.arrayValue)
        XCTAssertEqual(partialItems.map(\.name), listed.map(\.name))
        XCTAssertEqual(partialItems.first?["kind"], "PartialObjectMetadata")
        let partialWhole: JSON = [
            "kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": .object(metadata),
            "items": .array(partialItems),
        ]
        XCTAssertTrue(partial == partialWhole.encoded(), "the metadata-only list differs from the whole one")
        let partialProtobuf = try await streamedBody(
            server, query: query,
            accept: KubernetesProtobuf.mediaType + ";as=PartialObjectMetadataList;g=meta.k8s.io;v=v1")
        let partialProtobufWhole = try KubernetesProtobuf.encodeList(
            apiVersion: "meta.k8s.io/v1", kind: "PartialObjectMetadataList", metadata: metadata, items: partialItems)
        XCTAssertTrue(partialProtobuf == partialProtobufWhole, "the protobuf metadata-only list differs")

        let table = try JSON.parse(
            try await streamedBody(server, query: query, accept: "application/json;as=Table;g=meta.k8s.io;v=v1"))
        XCTAssertEqual(table["kind"], "Table")
        XCTAssertEqual(table["apiVersion"], "meta.k8s.io/v1")
        XCTAssertEqual(table["metadata"], .object(metadata))
        XCTAssertEqual(table["columnDefinitions"]?.arrayValue?.first?["name"], "Name")
        let rows = try XCTUnwrap(table["rows"]?.arrayValue)
        XCTAssertEqual(rows.map { $0["cells"]?.arrayValue?.first }, items.map { $0["metadata"]?["name"] })
        XCTAssertEqual(rows.last?["object"]?["kind"], "PartialObjectMetadata")
    }

    /// The body of a list that must come chunked, joined.
    private func streamedBody(_ server: APIServer, query: String, accept: String) async throws -> [UInt8] {
        let response = await server.respond(to: Self.request(.GET, Self.path + query, accept: accept))
        XCTAssertEqual(response.status, .ok)
        XCTAssertEqual(
            response.headers.first(name: "Content-Type"), accept.split(separator: ";").first.map(String.init))
        guard case .chunked(let body) = response.body else {
            throw TestClusterError("a list of \(Self.count) ConfigMaps as \(accept) is not chunked")
        }
        let chunks = Array(body)
        XCTAssertGreaterThanOrEqual(chunks.count, 2, accept)
        XCTAssertTrue(chunks.dropLast().allSatisfy { $0.count > ListChunks.chunkBytes }, accept)
        XCTAssertEqual(body.collect(), chunks.flatMap { $0 }, "a second pass makes other bytes")
        return body.collect()
    }

    /// The list's metadata, read from a JSON list at the same revision.
    private func listMetadata(_ server: APIServer, query: String) async throws -> JSONObject {
        let response = await server.respond(to: Self.request(.GET, Self.path + query, accept: "application/json"))
        guard case .chunked(let body) = response.body else { throw TestClusterError("not chunked") }
        return try XCTUnwrap(try JSON.parse(body.collect())["metadata"]?.objectValue)
    }

    static func server(watchCache: Bool) async throws -> APIServer {
        var configuration = APIServer.Configuration()
        configuration.admission = AdmissionChain(plugins: [])
        if !watchCache { configuration.watchCache = nil }
        let server = APIServer(storage: MemoryStore(), configuration: configuration)
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        return server
    }

    /// Creates `count` ConfigMaps of about 3 KB each, most of it metadata, so their lists span several chunks;
    /// returns them as created, in name order, and waits until a cached list has them all.
    static func fill(_ server: APIServer) async throws -> [JSON] {
        var items: [JSON] = []
        for index in 0..<count {
            let name = String(format: "cm-%04d", index)
            var body = ConsistentReadTests.configMap(name, value: String(repeating: "x\(index % 10)", count: 500))
            // Metadata of this size makes metadata-only lists and tables span chunks too.
            body.setMeta("annotations", ["note": .string(String(repeating: "n\(index % 10)", count: 1_000))])
            let response = await server.respond(to: request(.POST, path, body: body))
            guard case .bytes(let bytes) = response.body, response.status == .created else {
                throw TestClusterError("create \(name): \(response.status)")
            }
            items.append(try JSON.parse(bytes))
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let response = await server.respond(to: request(.GET, path + "?resourceVersion=0"))
            if case .chunked(let body) = response.body,
                try JSON.parse(body.collect())["items"]?.arrayValue?.count == count
            {
                return items
            }
            guard ContinuousClock.now < deadline else { throw TestClusterError("the cache never caught up") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    static func request(_ method: HTTPMethod, _ uri: String, body: JSON? = nil, accept: String? = nil)
        -> HTTPRequest
    {
        var headers: HTTPHeaders = ["User-Agent": "streamed-list-tests/1.0"]
        if body != nil { headers.add(name: "Content-Type", value: "application/json") }
        if let accept { headers.add(name: "Accept", value: accept) }
        return HTTPRequest(
            method: method, uri: uri, headers: headers, body: body?.encoded() ?? [], user: ConsistentReadTests.admin,
            remoteAddress: "127.0.0.9")
    }
}

import APIMachinery
import NIOHTTP1
import Storage
import TestSupport
import XCTest

@testable import APIServer

/// A create answers plain JSON with the bytes it stored, resourceVersion spliced in, so the response is the
/// one a following GET sends; Table, protobuf and dry-run answers are encoded from the object as before.
final class CreateResponseTests: XCTestCase {
    private static let pods = "/api/v1/namespaces/default/pods"

    private static let pod: JSON = [
        "apiVersion": "v1", "kind": "Pod",
        "metadata": ["generateName": "web-", "labels": ["app": "web"], "annotations": ["note": "caf\u{e9} \"q\""]],
        "spec": ["containers": [["name": "c", "image": "nginx", "ports": [["containerPort": 80]]]]],
    ]

    private func makeServer() async throws -> APIServer {
        var configuration = APIServer.Configuration()
        configuration.admission = AdmissionChain(plugins: [])
        let server = APIServer(storage: MemoryStore(), configuration: configuration)
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        return server
    }

    private func send(
        _ server: APIServer, _ method: HTTPMethod, _ uri: String, body: JSON? = nil, accept: String? = nil
    ) async throws -> (status: UInt, contentType: String?, bytes: [UInt8]) {
        var headers: HTTPHeaders = ["User-Agent": "create-response-tests/1.0"]
        if body != nil { headers.add(name: "Content-Type", value: "application/json") }
        if let accept { headers.add(name: "Accept", value: accept) }
        let request = HTTPRequest(
            method: method, uri: uri, headers: headers, body: body?.encoded() ?? [], user: ConsistentReadTests.admin,
            remoteAddress: "127.0.0.9")
        let response = await server.respond(to: request)
        guard case .bytes(let bytes) = response.body else { throw TestClusterError("expected a body, got a stream") }
        return (response.status.code, response.headers["Content-Type"].first, bytes)
    }

    func testJSONCreateAnswersWithTheBytesAGetSends() async throws {
        let server = try await makeServer()
        for accept in [nil, "application/json", "application/json, */*"] {
            let created = try await send(server, .POST, Self.pods, body: Self.pod, accept: accept)
            XCTAssertEqual(created.status, 201)
            let object = try JSON.parse(created.bytes)
            let name = try XCTUnwrap(object.name)
            XCTAssertNotNil(object.resourceVersion)
            XCTAssertEqual(
                object[path: "metadata", "managedFields"]?.arrayValue?.first?["manager"], "create-response-tests")
            XCTAssertEqual(
                object[path: "spec", "containers"]?.arrayValue?.first?["ports"]?.arrayValue?.first?["protocol"], "TCP",
                "defaults are in")
            let got = try await send(server, .GET, Self.pods + "/" + name)
            XCTAssertEqual(got.status, 200)
            XCTAssertEqual(String(decoding: created.bytes, as: UTF8.self), String(decoding: got.bytes, as: UTF8.self))
        }
    }

    func testTableProtobufAndDryRunAreEncodedFromTheObject() async throws {
        let server = try await makeServer()
        let table = try await send(
            server, .POST, Self.pods, body: Self.pod, accept: "application/json;as=Table;v=v1;g=meta.k8s.io")
        XCTAssertEqual(table.status, 201)
        let tableObject = try JSON.parse(table.bytes)
        XCTAssertEqual(tableObject["kind"], "Table")
        XCTAssertEqual(tableObject["rows"]?.arrayValue?.count, 1)

        let protobuf = try await send(server, .POST, Self.pods, body: Self.pod, accept: KubernetesProtobuf.mediaType)
        XCTAssertEqual(protobuf.status, 201)
        XCTAssertEqual(protobuf.contentType, KubernetesProtobuf.mediaType)
        let decoded = try KubernetesProtobuf.decode(protobuf.bytes).object
        let name = try XCTUnwrap(decoded.name)
        let got = try await send(server, .GET, Self.pods + "/" + name)
        XCTAssertEqual(try JSON.parse(got.bytes).resourceVersion, decoded.resourceVersion)

        let dryRun = try await send(server, .POST, Self.pods + "?dryRun=All", body: Self.pod)
        XCTAssertEqual(dryRun.status, 201)
        let wouldBe = try JSON.parse(dryRun.bytes)
        XCTAssertNil(wouldBe.resourceVersion)
        let missing = try await send(server, .GET, Self.pods + "/" + (wouldBe.name ?? ""))
        XCTAssertEqual(missing.status, 404)
    }
}

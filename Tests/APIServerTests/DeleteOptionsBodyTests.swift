import APIMachinery
import Foundation
import NIOHTTP1
import Storage
import XCTest

@testable import APIServer

/// A DELETE's options come from its body in the encoding it names: Go clients (client-go, upstream's
/// controllers and e2e tests) send DeleteOptions as protobuf, kubectl as JSON, and both carry `dryRun` there.
final class DeleteOptionsBodyTests: XCTestCase {
    static let collection = "/api/v1/namespaces/default/configmaps"

    static func respond(
        _ server: APIServer, _ method: HTTPMethod, _ uri: String, body: [UInt8] = [],
        contentType: String = "application/json"
    ) async -> (Int, JSON) {
        let request = HTTPRequest(
            method: method, uri: uri, headers: ["Content-Type": contentType, "User-Agent": "delete-options/1.0"],
            body: body, user: DeletePropagationTests.admin, remoteAddress: "127.0.0.9")
        let response = await server.respond(to: request)
        guard case .bytes(let bytes) = response.body, let json = try? JSON.parse(bytes) else {
            return (Int(response.status.code), .null)
        }
        return (Int(response.status.code), json)
    }

    func serverWithConfigMaps(_ names: [String]) async throws -> APIServer {
        let server = APIServer(storage: MemoryStore(), configuration: APIServer.Configuration())
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        for name in names {
            let object: JSON = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)]]
            let (code, _) = await Self.respond(server, .POST, Self.collection, body: object.encoded())
            XCTAssertEqual(code, 201)
        }
        return server
    }

    /// client-go labels DeleteOptions with the group version of the resource it deletes (`v1` here).
    func protobuf(_ options: JSON) throws -> [UInt8] {
        try KubernetesProtobuf.encode(options, apiVersion: "v1", kind: "DeleteOptions")
    }

    func testProtobufDeleteOptionsAreReadAsGoClientsSendThem() async throws {
        let server = try await serverWithConfigMaps(["one"])
        let path = "\(Self.collection)/one"
        var (code, status) = await Self.respond(
            server, .DELETE, path, body: try protobuf(["preconditions": ["uid": "not-its-uid"]]),
            contentType: KubernetesProtobuf.mediaType)
        XCTAssertEqual(code, 409, "the precondition in the protobuf body is checked: \(status)")
        XCTAssertEqual(status["reason"], "Conflict")

        (code, _) = await Self.respond(
            server, .DELETE, path, body: try protobuf(["dryRun": ["All"]]), contentType: KubernetesProtobuf.mediaType)
        XCTAssertEqual(code, 200)
        (code, _) = await Self.respond(server, .GET, path)
        XCTAssertEqual(code, 200, "a dry run deletes nothing")

        (code, _) = await Self.respond(
            server, .DELETE, path, body: try protobuf(["gracePeriodSeconds": 0]),
            contentType: KubernetesProtobuf.mediaType)
        XCTAssertEqual(code, 200)
        (code, _) = await Self.respond(server, .GET, path)
        XCTAssertEqual(code, 404)

        (code, status) = await Self.respond(
            server, .DELETE, "\(Self.collection)/other", body: [0x6b, 0x38, 0x73, 0x00, 0xff],
            contentType: KubernetesProtobuf.mediaType)
        XCTAssertEqual(code, 400, "a malformed body is the client's error: \(status)")
    }

    func testDryRunInAJSONBodyDeletesNothingAndAnUnknownValueIsRejected() async throws {
        let server = try await serverWithConfigMaps(["keep", "also-keep"])
        var (code, object) = await Self.respond(
            server, .DELETE, "\(Self.collection)/keep", body: (["dryRun": ["All"]] as JSON).encoded())
        XCTAssertEqual(code, 200)
        XCTAssertEqual(object["details"]?["name"] ?? object["metadata"]?["name"], "keep")
        (code, _) = await Self.respond(server, .GET, "\(Self.collection)/keep")
        XCTAssertEqual(code, 200, "kubectl delete --dry-run=server puts dryRun in the body")

        (code, _) = await Self.respond(server, .DELETE, Self.collection, body: (["dryRun": ["All"]] as JSON).encoded())
        XCTAssertEqual(code, 200)
        var list: JSON
        (code, list) = await Self.respond(server, .GET, Self.collection)
        XCTAssertEqual(list["items"]?.arrayValue?.count, 2, "a dry-run deletecollection deletes nothing")

        (code, object) = await Self.respond(
            server, .DELETE, "\(Self.collection)/keep", body: (["dryRun": ["Some"]] as JSON).encoded())
        XCTAssertEqual(code, 400)
        XCTAssertEqual(object["message"], "dryRun: Unsupported value: \"Some\": supported values: \"All\"")
        (code, object) = await Self.respond(server, .DELETE, "\(Self.collection)/keep", body: Array("[1]".utf8))
        XCTAssertEqual(code, 400, "not an object: \(object)")
        (code, _) = await Self.respond(server, .GET, "\(Self.collection)/keep")
        XCTAssertEqual(code, 200)
    }

    func testAnEvictionsDeleteOptionsApply() async throws {
        let server = try await serverWithConfigMaps([])
        let pod: JSON = [
            "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"],
            "spec": ["containers": [["name": "c", "image": "busybox"]]],
        ]
        var (code, _) = await Self.respond(server, .POST, "/api/v1/namespaces/default/pods", body: pod.encoded())
        XCTAssertEqual(code, 201)
        let eviction: (JSON) -> [UInt8] = { options in
            let body: JSON = [
                "apiVersion": "policy/v1", "kind": "Eviction", "metadata": ["name": "p", "namespace": "default"],
                "deleteOptions": options,
            ]
            return body.encoded()
        }
        let path = "/api/v1/namespaces/default/pods/p/eviction"
        (code, _) = await Self.respond(server, .POST, path, body: eviction(["dryRun": ["All"]]))
        XCTAssertEqual(code, 201)
        (code, _) = await Self.respond(server, .GET, "/api/v1/namespaces/default/pods/p")
        XCTAssertEqual(code, 200, "a dry-run eviction leaves the pod")
        (code, _) = await Self.respond(server, .POST, path, body: eviction(["preconditions": ["uid": "not-its-uid"]]))
        XCTAssertEqual(code, 409)
        (code, _) = await Self.respond(server, .POST, path, body: eviction(["gracePeriodSeconds": 0]))
        XCTAssertEqual(code, 201)
        (code, _) = await Self.respond(server, .GET, "/api/v1/namespaces/default/pods/p")
        XCTAssertEqual(code, 404)
    }
}

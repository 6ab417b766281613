import APIMachinery
import Foundation
import NIOHTTP1
import Storage
import XCTest

@testable import APIServer

/// Options every write shares, checked as upstream checks them before anything is stored.
final class WriteOptionsTests: XCTestCase {
    static let admin = UserInfo(name: "admin", uid: "u-1", groups: ["system:masters", "system:authenticated"])

    func respond(_ server: APIServer, _ method: HTTPMethod, _ uri: String, body: JSON, type: String) async -> (
        HTTPResponse, JSON
    ) {
        let request = HTTPRequest(
            method: method, uri: uri, headers: ["Content-Type": type, "User-Agent": "write-options-tests/1.0"],
            body: body.encoded(), user: Self.admin, remoteAddress: "127.0.0.9")
        let response = await server.respond(to: request)
        guard case .bytes(let bytes) = response.body, let json = try? JSON.parse(bytes) else {
            return (response, .null)
        }
        return (response, json)
    }

    func testAFieldManagerLongerThan128BytesIsRefusedForTheVerbsOptions() async throws {
        let server = APIServer(storage: MemoryStore(), configuration: APIServer.Configuration())
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        let collection = "/api/v1/namespaces/default/configmaps"
        let configMap: JSON = [
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "cm"], "data": ["k": "v"],
        ]
        let longest = String(repeating: "m", count: 128)
        let tooLong = longest + "m"

        let (refused, status) = await respond(
            server, .POST, "\(collection)?fieldManager=\(tooLong)", body: configMap, type: "application/json")
        XCTAssertEqual(refused.status.code, 422)
        XCTAssertEqual(
            status["message"]?.stringValue,
            "CreateOptions.meta.k8s.io \"\" is invalid: fieldManager: Too long: may not be more than 128 bytes")
        XCTAssertEqual(status["details"]?["kind"]?.stringValue, "CreateOptions")
        XCTAssertEqual(status["details"]?["causes"]?.arrayValue?.first?["reason"]?.stringValue, "FieldValueTooLong")
        let (missing, _) = await respond(server, .GET, "\(collection)/cm", body: .null, type: "application/json")
        XCTAssertEqual(missing.status.code, 404, "nothing was stored")

        let (created, object) = await respond(
            server, .POST, "\(collection)?fieldManager=\(longest)", body: configMap, type: "application/json")
        XCTAssertEqual(created.status.code, 201)
        XCTAssertEqual(object["metadata"]?["managedFields"]?.arrayValue?.first?["manager"]?.stringValue, longest)

        let (patched, patchStatus) = await respond(
            server, .PATCH, "\(collection)/cm?fieldManager=\(tooLong)", body: ["data": ["a": "b"]],
            type: "application/merge-patch+json")
        XCTAssertEqual(patched.status.code, 422)
        XCTAssertEqual(patchStatus["details"]?["kind"]?.stringValue, "PatchOptions")
    }
}

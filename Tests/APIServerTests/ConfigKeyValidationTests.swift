import APIMachinery
import Foundation
import NIOHTTP1
import Storage
import XCTest

@testable import APIServer

/// Keys of a Secret's or ConfigMap's data become file names in a volume: upstream's `IsConfigMapKey` rules,
/// with its messages.
final class ConfigKeyValidationTests: XCTestCase {
    func testSecretAndConfigMapKeysFollowUpstreamsRules() async throws {
        let server = APIServer(storage: MemoryStore(), configuration: APIServer.Configuration())
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        func create(_ kind: String, _ name: String, _ fields: JSON) async -> (Int, JSON) {
            var object: JSON = ["apiVersion": "v1", "kind": .string(kind), "metadata": ["name": .string(name)]]
            for (key, value) in fields.objectValue ?? JSONObject() { object[key] = value }
            let plural = kind == "Secret" ? "secrets" : "configmaps"
            return await DeleteOptionsBodyTests.respond(
                server, .POST, "/api/v1/namespaces/default/\(plural)", body: object.encoded())
        }

        var (code, status) = await create("Secret", "empty-key", ["data": ["": "dmFsdWU="]])
        XCTAssertEqual(code, 422)
        XCTAssertEqual(
            status["message"],
            .string(
                "Secret \"empty-key\" is invalid: data[]: Invalid value: \"\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
            ))
        (code, status) = await create("ConfigMap", "slash", ["data": ["a/b": "v"]])
        XCTAssertEqual(code, 422, "\(status)")
        (code, status) = await create("ConfigMap", "dots", ["binaryData": ["..": "dg=="]])
        XCTAssertEqual(code, 422)
        XCTAssertEqual(
            status["message"], "ConfigMap \"dots\" is invalid: binaryData[..]: Invalid value: \"..\": must not be '..'")
        (code, status) = await create("ConfigMap", "both", ["data": ["k": "v"], "binaryData": ["k": "dg=="]])
        XCTAssertEqual(
            status["message"],
            "ConfigMap \"both\" is invalid: data[k]: Invalid value: \"k\": duplicate of key present in binaryData")
        let long = String(repeating: "k", count: 254)
        (code, status) = await create(
            "ConfigMap", "long", .object(JSONObject([("data", .object(JSONObject([(long, "v")])))])))
        XCTAssertEqual(code, 422)

        (code, _) = await create(
            "Secret", "fine", ["data": ["key.name": "dg==", "KEY_NAME": "dg==", "key-name": "dg=="]])
        XCTAssertEqual(code, 201)
        (code, _) = await create("ConfigMap", "fine", ["data": [".hidden": "v"], "binaryData": ["other": "dg=="]])
        XCTAssertEqual(code, 201)
    }
}

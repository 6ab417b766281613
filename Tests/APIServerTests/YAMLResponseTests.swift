import APIMachinery
import Client
import Foundation
import Operations
import TestSupport
import XCTest

@testable import APIServer

/// `Accept: application/yaml` through the Go-style client over TLS: gets, lists, tables and errors come back
/// as upstream writes YAML (sorted keys, quoted ambiguous strings, literal blocks), watches stay JSON-only.
final class YAMLResponseTests: XCTestCase {
    struct Fixture: Sendable {
        let server: KubectlTestServer
        let client: RESTClient
    }

    static let fixture = Task { () throws -> Fixture in
        let server = try await KubectlTestServer(address: "127.0.0.147", configuration: APIServer.Configuration())
        let created = try server.kubectl(
            ["create", "-f", "-"],
            input: """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: settings, namespace: default, labels: {tier: web}}
                data: {b: "2", a: "true", multi: "x\\ny", plain: hello, empty: "", "on": "on"}
                """)
        guard created.status == 0 else { throw TestClusterError(created.stderr) }
        return Fixture(server: server, client: try RESTClient(kubeconfigPath: server.kubeconfig))
    }

    func get(_ path: String, accept: String, query: Query = [:]) async throws -> Response {
        let fixture = try await Self.fixture.value
        return try await fixture.client.send(
            Request(method: .get, path: path, query: query, headers: [Header(name: "Accept", value: accept)]))
    }

    func testGetAnswersUpstreamsYAML() async throws {
        let response = try await get("/api/v1/namespaces/default/configmaps/settings", accept: "application/yaml")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("content-type"), "application/yaml")
        let text = String(decoding: response.body, as: UTF8.self)
        XCTAssertTrue(
            text.hasPrefix(
                """
                apiVersion: v1
                data:
                  a: "true"
                  b: "2"
                  empty: ""
                  multi: |-
                    x
                    y
                  "on": "on"
                  plain: hello
                kind: ConfigMap
                metadata:
                  creationTimestamp: "
                """), text)
        let json = try await get("/api/v1/namespaces/default/configmaps/settings", accept: "application/json")
        XCTAssertEqual(try YAMLDocument.decode(response.body), try JSON.parse(json.body))
    }

    func testListsAndTablesToo() async throws {
        let list = try await get(
            "/api/v1/namespaces/default/configmaps", accept: "application/yaml", query: ["labelSelector": "tier=web"])
        XCTAssertEqual(list.header("content-type"), "application/yaml")
        let decoded = try YAMLDocument.decode(list.body)
        XCTAssertEqual(decoded?["kind"], "ConfigMapList")
        XCTAssertEqual(decoded?["items"]?.arrayValue?.compactMap(\.name), ["settings"])
        XCTAssertTrue(String(decoding: list.body, as: UTF8.self).hasPrefix("apiVersion: v1\nitems:\n- "))

        let table = try await get(
            "/api/v1/namespaces/default/configmaps/settings",
            accept: "application/yaml;as=Table;v=v1;g=meta.k8s.io")
        XCTAssertEqual(table.header("content-type"), "application/yaml")
        XCTAssertEqual(try YAMLDocument.decode(table.body)?["kind"], "Table")
    }

    func testErrorsAreYAMLStatusesAndWatchesRefuseYAML() async throws {
        let missing = try await get("/api/v1/namespaces/default/configmaps/nope", accept: "application/yaml")
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.header("content-type"), "application/yaml")
        XCTAssertEqual(
            String(decoding: missing.body, as: UTF8.self),
            """
            apiVersion: v1
            code: 404
            details:
              kind: configmaps
              name: nope
            kind: Status
            message: configmaps "nope" not found
            metadata: {}
            reason: NotFound
            status: Failure

            """)
        let watch = try await get(
            "/api/v1/namespaces/default/configmaps", accept: "application/yaml", query: ["watch": "true"])
        XCTAssertEqual(watch.status, 406)
    }

    func testKeysFollowGoYAMLsNaturalOrder() {
        let keys = ["item10", "item2", "Zeta", "alpha", "_hidden", "a1b", "a10"]
        XCTAssertEqual(
            keys.sorted(by: YAMLResponse.goYAMLKeyLess), ["_hidden", "Zeta", "a10", "a1b", "alpha", "item2", "item10"])
        let text = String(
            decoding: YAMLResponse.encode(["list": [], "map": [:], "n": .double(1.5), "none": .null]), as: UTF8.self)
        XCTAssertEqual(text, "list: []\nmap: {}\nn: 1.5\nnone: null\n")
    }
}

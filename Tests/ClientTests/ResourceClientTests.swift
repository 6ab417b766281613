import APIMachinery
import Logging
import TestSupport
import XCTest

@testable import Client

/// Typed verbs against the in-process API server, and the decoding of what comes back.
final class ResourceClientTests: XCTestCase {
    func testTypedVerbsRoundTripModelsAndThrowStatusErrors() async throws {
        let endpoint = try await LocalAPIServer.shared.start()
        let client = try RESTClient(kubeconfigPath: endpoint.kubeconfigPath)
        let namespace = uniqueNamespace("typed")
        try await client.createNamespace(namespace)
        let configMaps = ResourceClient<ConfigMap>(client: client, namespace: namespace)

        let created = try await configMaps.create(ConfigMap(data: ["color": "blue"], metadata: ObjectMeta(name: "c")))
        XCTAssertEqual(created.metadata.namespace, namespace)
        XCTAssertNotNil(created.metadata.uid)
        let fetched = try await configMaps.get("c")
        XCTAssertEqual(fetched.data, ["color": "blue"])

        var changed = fetched
        changed.data["color"] = "green"
        let updated = try await configMaps.update(changed)
        XCTAssertEqual(updated.data["color"], "green")
        do {
            _ = try await configMaps.update(fetched)
            XCTFail("a stale update succeeded")
        } catch let error as StatusError {
            XCTAssertEqual(error.code, 409)
        }

        let patched = try await configMaps.patch("c", ["data": ["size": "large"]])
        XCTAssertEqual(patched.data, ["color": "green", "size": "large"])
        let dryRun = try await configMaps.create(ConfigMap(metadata: ObjectMeta(name: "ghost")), dryRun: true)
        XCTAssertEqual(dryRun.metadata.name, "ghost")

        let page = try await configMaps.list(limit: 1)
        XCTAssertEqual(page.items.count, 1)
        XCTAssertNotNil(page.continueToken, "two ConfigMaps (ours and kube-root-ca.crt) need two pages of one")
        let all = try await configMaps.list()
        XCTAssertEqual(all.items.compactMap(\.metadata.name).sorted(), ["c", "kube-root-ca.crt"])

        var preconditioned = DeleteOptions()
        preconditioned.preconditions = Preconditions(uid: "not-the-uid")
        do {
            try await configMaps.delete("c", options: preconditioned)
            XCTFail("a delete with a wrong uid precondition succeeded")
        } catch let error as StatusError {
            XCTAssertEqual(error.code, 409)
        }
        try await configMaps.delete("c")
        do {
            _ = try await configMaps.get("c")
            XCTFail("the ConfigMap survived its deletion")
        } catch let error as StatusError {
            XCTAssertEqual(error.statusReason, .notFound)
        }
        await client.shutdown()
    }

    func testWatchEventsDecodeAndMalformedObjectsAreSkipped() {
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let good = WatchEvent(
            type: .modified, object: ["kind": "ConfigMap", "metadata": ["name": "a", "resourceVersion": "9"]])
        guard case .modified(let object) = ResourceClient<ConfigMap>.change(good, logger: logger) else {
            return XCTFail("a valid event did not decode")
        }
        XCTAssertEqual(object.metadata.resourceVersion, "9")
        let malformed = WatchEvent(type: .added, object: ["kind": "ConfigMap", "data": 5])
        XCTAssertNil(ResourceClient<ConfigMap>.change(malformed, logger: logger))
        let bookmark = WatchEvent(type: .bookmark, object: ["metadata": ["resourceVersion": "12"]])
        guard case .bookmark(let version) = ResourceClient<ConfigMap>.change(bookmark, logger: logger) else {
            return XCTFail("a bookmark did not decode")
        }
        XCTAssertEqual(version, "12")
        let expired = WatchEvent(type: .error, object: ["kind": "Status", "code": 410, "reason": "Expired"])
        guard case .error(let status) = ResourceClient<ConfigMap>.change(expired, logger: logger) else {
            return XCTFail("an ERROR event did not decode")
        }
        XCTAssertEqual(status.code, 410)
    }
}

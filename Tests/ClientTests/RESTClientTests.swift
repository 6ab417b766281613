import APIMachinery
import Foundation
import Operations
import TestSupport
import XCTest

@testable import Client

/// The client against a real API server over TLS and HTTP/2.
final class RESTClientTests: XCTestCase {
    private func adminClient(connections: Int = 1) async throws -> RESTClient {
        let endpoint = try await LocalAPIServer.shared.start()
        var configuration = try ClientConfiguration.load(kubeconfigPath: endpoint.kubeconfigPath)
        configuration.connections = connections
        // These tests exercise the transport; client-side rate limiting has its own (RateLimitTests).
        configuration.qps = -1
        return try RESTClient(configuration: configuration)
    }

    func testCreateGetListUpdatePatchDeleteRoundTrip() async throws {
        let client = try await adminClient()
        let namespace = uniqueNamespace("crud")
        try await client.createNamespace(namespace)
        let collection = ResourcePath.path(namespace: namespace, resource: "configmaps")
        let one = ResourcePath.path(namespace: namespace, resource: "configmaps", name: "settings")

        let created = try await client.postJSON(path: collection, configMap("settings", ["color": "blue"]))
        XCTAssertEqual(created[path: "metadata", "name"], "settings")
        XCTAssertEqual(created[path: "metadata", "namespace"], .string(namespace))
        let firstVersion = try XCTUnwrap(created[path: "metadata", "resourceVersion"]?.stringValue)

        let fetched = try await client.getJSON(path: one)
        XCTAssertEqual(fetched[path: "data", "color"], "blue")
        XCTAssertEqual(fetched[path: "metadata", "uid"], created[path: "metadata", "uid"])

        let list = try await client.getJSON(path: collection)
        XCTAssertEqual(list["kind"], "ConfigMapList")
        // The root CA publisher adds kube-root-ca.crt to every namespace on its own time, as upstream's controller
        // does: under load it may not be there yet.
        XCTAssertEqual(
            list["items"]?.arrayValue?.compactMap { $0[path: "metadata", "name"]?.stringValue }
                .filter { $0 != "kube-root-ca.crt" },
            ["settings"])

        var changed = fetched
        changed.set(["data", "color"], to: "green")
        let updated = try await client.putJSON(path: one, changed)
        XCTAssertEqual(updated[path: "data", "color"], "green")
        XCTAssertNotEqual(updated[path: "metadata", "resourceVersion"]?.stringValue, firstVersion)

        // The first version is stale now: optimistic concurrency must refuse it.
        do {
            _ = try await client.putJSON(path: one, fetched)
            XCTFail("a stale update succeeded")
        } catch let error as StatusError {
            XCTAssertEqual(error.code, 409)
            XCTAssertEqual(error.statusReason, .conflict)
        }

        let patched = try await client.patchJSON(path: one, ["data": ["size": "large"]], type: .merge)
        XCTAssertEqual(patched[path: "data", "color"], "green")
        XCTAssertEqual(patched[path: "data", "size"], "large")

        _ = try await client.deleteJSON(path: one)
        do {
            _ = try await client.getJSON(path: one)
            XCTFail("the object survived its deletion")
        } catch let error as StatusError {
            XCTAssertEqual(error.code, 404)
        }
        await client.shutdown()
    }

    func testMissingObjectIsTypedErrorWithUpstreamMessage() async throws {
        let client = try await adminClient()
        let namespace = uniqueNamespace("missing")
        try await client.createNamespace(namespace)
        do {
            _ = try await client.get(
                path: ResourcePath.path(namespace: namespace, resource: "configmaps", name: "nope"))
            XCTFail("GET of a missing object succeeded")
        } catch let error as StatusError {
            XCTAssertEqual(error.code, 404)
            XCTAssertEqual(error.reason, "NotFound")
            XCTAssertEqual(error.statusReason, .notFound)
            XCTAssertEqual(error.message, "configmaps \"nope\" not found")
            XCTAssertEqual(error.details?["name"], "nope")
        }
        let collection = ResourcePath.path(namespace: namespace, resource: "configmaps")
        _ = try await client.postJSON(path: collection, configMap("twice", [:]))
        do {
            _ = try await client.postJSON(path: collection, configMap("twice", [:]))
            XCTFail("a second create of the same name succeeded")
        } catch let error as StatusError {
            XCTAssertEqual(error.code, 409)
            XCTAssertEqual(error.statusReason, .alreadyExists)
            XCTAssertEqual(error.message, "configmaps \"twice\" already exists")
        }
        // `send` hands back any status without throwing.
        let raw = try await client.send(Request(method: .get, path: collection + "/nope"))
        XCTAssertEqual(raw.status, 404)
        XCTAssertEqual(raw.header("Content-Type"), "application/json")
        await client.shutdown()
    }

    func testWatchSeesAddedModifiedDeletedInOrder() async throws {
        let client = try await adminClient()
        let namespace = uniqueNamespace("watch")
        try await client.createNamespace(namespace)
        let collection = ResourcePath.path(namespace: namespace, resource: "configmaps")
        let one = collection + "/watched"
        let listVersion = try await client.getJSON(path: collection)[path: "metadata", "resourceVersion"]
        // The namespace's other config maps (the root CA publisher's `kube-root-ca.crt`) are not this test's.
        let events = try await client.watch(
            path: collection,
            query: ["resourceVersion": listVersion?.stringValue ?? "0", "fieldSelector": "metadata.name=watched"])

        _ = try await client.postJSON(path: collection, configMap("watched", ["step": "1"]))
        _ = try await client.patchJSON(path: one, ["data": ["step": "2"]])
        _ = try await client.deleteJSON(path: one)

        var seen: [(WatchEvent.EventType, String?)] = []
        for try await event in events {
            seen.append((event.type, event.object[path: "data", "step"]?.stringValue))
            XCTAssertEqual(event.object[path: "metadata", "name"], "watched")
            if seen.count == 3 { break }
        }
        XCTAssertEqual(seen.map(\.0), [.added, .modified, .deleted])
        XCTAssertEqual(seen.map(\.1), ["1", "2", "2"])
        await client.shutdown()
    }

    func testWatchWithTooOldVersionOrBadPathFails() async throws {
        let client = try await adminClient()
        do {
            _ = try await client.watch(path: "/api/v1/namespaces/default/nosuchresources")
            XCTFail("a watch of an unknown resource was accepted")
        } catch let error as StatusError {
            XCTAssertEqual(error.code, 404)
        }
        await client.shutdown()
    }

    func testTwoHundredConcurrentGetsShareOneConnection() async throws {
        let client = try await adminClient()
        let namespace = uniqueNamespace("many")
        try await client.createNamespace(namespace)
        let collection = ResourcePath.path(namespace: namespace, resource: "configmaps")
        _ = try await client.postJSON(path: collection, configMap("shared", ["k": "v"]))
        let path = collection + "/shared"
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<200 {
                group.addTask { try await client.get(path: path).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        XCTAssertEqual(statuses.count, 200)
        XCTAssertEqual(Set(statuses), [200])
        XCTAssertEqual(client.connectionsOpened, 1, "every request should be a stream on the same connection")
        await client.shutdown()
    }

    func testReconnectsAfterTheConnectionDies() async throws {
        let client = try await adminClient()
        _ = try await client.get(path: "/version")
        XCTAssertEqual(client.connectionsOpened, 1)
        for connection in client.pool.openConnections() {
            connection.close()
            try await connection.channel.closeFuture.get()
        }
        let version = try await client.getJSON(path: "/version")
        XCTAssertNotNil(version["gitVersion"])
        XCTAssertEqual(client.connectionsOpened, 2)
        await client.shutdown()
        do {
            _ = try await client.get(path: "/version")
            XCTFail("a request after shutdown succeeded")
        } catch let error as ClientError {
            XCTAssertEqual(error, .shutdown)
        }
    }

    func testBearerTokenAndBadToken() async throws {
        let endpoint = try await LocalAPIServer.shared.start()
        var configuration = try ClientConfiguration(server: endpoint.server)
        configuration.trustRootsPEM = endpoint.caPEM
        configuration.bearerToken = endpoint.token
        let client = try RESTClient(configuration: configuration)
        let namespaces = try await client.getJSON(path: "/api/v1/namespaces")
        XCTAssertEqual(namespaces["kind"], "NamespaceList")
        await client.shutdown()

        configuration.bearerToken = "not-a-token"
        let stranger = try RESTClient(configuration: configuration)
        do {
            _ = try await stranger.get(path: "/api/v1/namespaces")
            XCTFail("a bad token was accepted")
        } catch let error as StatusError {
            XCTAssertEqual(error.code, 401)
            XCTAssertEqual(error.statusReason, .unauthorized)
        }
        await stranger.shutdown()
    }

    func testUntrustedServerCertificateFailsTheHandshake() async throws {
        let endpoint = try await LocalAPIServer.shared.start()
        var configuration = try ClientConfiguration(server: endpoint.server)
        // Some other CA: the server's certificate must not verify.
        let other = try CertificateAuthority.create(keyAlgorithm: .ecdsaP256, now: Date())
        configuration.trustRootsPEM = Array(other.certificatePEM.utf8)
        let client = try RESTClient(configuration: configuration)
        do {
            _ = try await client.get(path: "/version")
            XCTFail("an untrusted server was accepted")
        } catch is StatusError {
            XCTFail("the request reached the server")
        } catch {
            // A TLS error from NIOSSL; the exact type is theirs, the text names the verification failure.
            XCTAssertTrue("\(error)".contains("CERTIFICATE_VERIFY_FAILED"), "\(error)")
        }
        await client.shutdown()
    }
}

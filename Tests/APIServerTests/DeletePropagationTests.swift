import APIMachinery
import Foundation
import NIOHTTP1
import Storage
import XCTest

@testable import APIServer

/// A delete's propagationPolicy becomes the garbage collector's finalizers on the object, as upstream's delete
/// sets them; the object then waits for the collector. Namespaces also wait for their `spec.finalizers`.
final class DeletePropagationTests: XCTestCase {
    static let admin = UserInfo(name: "admin", uid: "u-1", groups: ["system:masters", "system:authenticated"])

    func respond(_ server: APIServer, _ method: HTTPMethod, _ uri: String, body: JSON = .null) async -> (Int, JSON) {
        let request = HTTPRequest(
            method: method, uri: uri, headers: ["Content-Type": "application/json", "User-Agent": "propagation/1.0"],
            body: body == .null ? [] : body.encoded(), user: Self.admin, remoteAddress: "127.0.0.9")
        let response = await server.respond(to: request)
        guard case .bytes(let bytes) = response.body, let json = try? JSON.parse(bytes) else {
            return (Int(response.status.code), .null)
        }
        return (Int(response.status.code), json)
    }

    func testEachPolicySetsItsFinalizerAndBackgroundDeletesAtOnce() async throws {
        let server = APIServer(storage: MemoryStore(), configuration: APIServer.Configuration())
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        let collection = "/api/v1/namespaces/default/configmaps"
        for name in ["orphaned", "foreground", "background"] {
            let (code, _) = await respond(
                server, .POST, collection,
                body: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)]])
            XCTAssertEqual(code, 201)
        }

        var (code, object) = await respond(
            server, .DELETE, "\(collection)/orphaned", body: ["propagationPolicy": "Orphan"])
        XCTAssertEqual(code, 200)
        XCTAssertEqual(object["metadata"]?["finalizers"], ["orphan"])
        XCTAssertNotNil(object["metadata"]?["deletionTimestamp"], "kept, marked deleting, for the collector")

        (code, object) = await respond(server, .DELETE, "\(collection)/foreground?propagationPolicy=Foreground")
        XCTAssertEqual(code, 200)
        XCTAssertEqual(object["metadata"]?["finalizers"], ["foregroundDeletion"])

        // Deleting again with another policy swaps the finalizer, as upstream does.
        (code, object) = await respond(
            server, .DELETE, "\(collection)/foreground", body: ["propagationPolicy": "Orphan"])
        XCTAssertEqual(object["metadata"]?["finalizers"], ["orphan"])

        (code, _) = await respond(
            server, .DELETE, "\(collection)/background", body: ["propagationPolicy": "Background"])
        XCTAssertEqual(code, 200)
        (code, _) = await respond(server, .GET, "\(collection)/background")
        XCTAssertEqual(code, 404, "nothing to wait for: gone at once")

        // The collector removes the finalizer when it has orphaned the dependents; the delete then completes.
        (code, object) = await respond(server, .GET, "\(collection)/orphaned")
        object.setMeta("finalizers", nil)
        (code, _) = await respond(server, .PUT, "\(collection)/orphaned", body: object)
        XCTAssertEqual(code, 200)
        (code, _) = await respond(server, .GET, "\(collection)/orphaned")
        XCTAssertEqual(code, 404)
    }

    func testATerminatingNamespaceStaysUntilItsSpecFinalizersAreGone() async throws {
        let server = APIServer(storage: MemoryStore(), configuration: APIServer.Configuration())
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        var (code, _) = await respond(
            server, .POST, "/api/v1/namespaces",
            body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "ns"]])
        XCTAssertEqual(code, 201)
        (code, _) = await respond(server, .DELETE, "/api/v1/namespaces/ns")
        XCTAssertEqual(code, 200)
        var namespace: JSON
        (code, namespace) = await respond(server, .GET, "/api/v1/namespaces/ns")
        XCTAssertEqual(code, 200)
        // An update while the `kubernetes` finalizer remains (a label, a status write) must not delete it.
        namespace.setMeta("labels", ["touched": "yes"])
        (code, _) = await respond(server, .PUT, "/api/v1/namespaces/ns", body: namespace)
        XCTAssertEqual(code, 200)
        (code, namespace) = await respond(server, .GET, "/api/v1/namespaces/ns")
        XCTAssertEqual(code, 200, "still terminating while spec.finalizers holds kubernetes")
        namespace.set(["spec", "finalizers"], to: .array([]))
        (code, _) = await respond(server, .PUT, "/api/v1/namespaces/ns/finalize", body: namespace)
        XCTAssertEqual(code, 200)
        (code, _) = await respond(server, .GET, "/api/v1/namespaces/ns")
        XCTAssertEqual(code, 404)
    }

    /// A ReplicationController deleted without a policy orphans its pods (upstream keeps v1's old default); one
    /// that names a policy, or already carries a collector finalizer, gets what it asks for.
    func testAReplicationControllerOrphansByDefault() async throws {
        let server = APIServer(storage: MemoryStore(), configuration: APIServer.Configuration())
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        let collection = "/api/v1/namespaces/default/replicationcontrollers"
        for name in ["plain", "background"] {
            let (code, _) = await respond(
                server, .POST, collection,
                body: [
                    "apiVersion": "v1", "kind": "ReplicationController", "metadata": ["name": .string(name)],
                    "spec": [
                        "replicas": 0, "selector": ["app": "x"],
                        "template": [
                            "metadata": ["labels": ["app": "x"]],
                            "spec": ["containers": [["name": "c", "image": "busybox"]]],
                        ],
                    ],
                ])
            XCTAssertEqual(code, 201)
        }
        var (code, object) = await respond(server, .DELETE, "\(collection)/plain")
        XCTAssertEqual(code, 200)
        XCTAssertEqual(object["metadata"]?["finalizers"], ["orphan"])
        (code, _) = await respond(
            server, .DELETE, "\(collection)/background", body: ["propagationPolicy": "Background"])
        (code, _) = await respond(server, .GET, "\(collection)/background")
        XCTAssertEqual(code, 404)

        let (_, configMap) = await respond(
            server, .POST, "/api/v1/namespaces/default/configmaps",
            body: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "cm"]])
        XCTAssertNotNil(configMap["metadata"]?["uid"])
        (code, _) = await respond(server, .DELETE, "/api/v1/namespaces/default/configmaps/cm")
        (code, _) = await respond(server, .GET, "/api/v1/namespaces/default/configmaps/cm")
        XCTAssertEqual(code, 404, "other kinds default to background")
    }
}

import APIMachinery
import Foundation
import NIOHTTP1
import Storage
import XCTest

@testable import APIServer

/// `--authorization-mode=Node,RBAC` with NodeRestriction on an in-process server: the graph follows pod
/// writes through storage, and refusals carry upstream's messages.
final class NodeAuthorizerServerTests: XCTestCase {
    let admin = UserInfo(name: "admin", uid: "u-1", groups: ["system:masters", "system:authenticated"])

    static func node(_ name: String) -> UserInfo {
        UserInfo(name: "system:node:" + name, groups: ["system:nodes", "system:authenticated"])
    }

    func makeServer() async throws -> APIServer {
        var configuration = APIServer.Configuration()
        configuration.authorizer = AuthorizerConfiguration(modes: [.node, .rbac])
        configuration.admission = AdmissionChain(plugins: [NodeRestriction()])
        let server = APIServer(storage: MemoryStore(), configuration: configuration)
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        return server
    }

    func send(
        _ server: APIServer, _ method: HTTPMethod, _ uri: String, as user: UserInfo, body: JSON? = nil,
        contentType: String = "application/json"
    ) async throws -> (status: UInt, body: JSON) {
        let response = await server.respond(
            to: HTTPRequest(
                method: method, uri: uri, headers: ["Content-Type": contentType], body: body?.encoded() ?? [],
                user: user, remoteAddress: "127.0.0.9"))
        guard case .bytes(let bytes) = response.body else { throw APIError.badRequest("no body") }
        return (response.status.code, bytes.isEmpty ? .null : try JSON.parse(bytes))
    }

    func pod(_ name: String, node: String, secret: String, annotations: JSON = [:]) -> JSON {
        [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(name), "namespace": "ns", "annotations": annotations],
            "spec": [
                "nodeName": .string(node), "imagePullSecrets": [["name": .string(secret)]],
                "containers": [["name": "c", "image": "nginx"]],
            ],
        ]
    }

    func testANodeReadsOnlyTheSecretsOfItsOwnPods() async throws {
        let server = try await makeServer()
        let secret: JSON = ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "x", "namespace": "ns"]]
        _ = try await send(server, .POST, "/api/v1/namespaces/ns/secrets", as: admin, body: secret)
        let created = try await send(
            server, .POST, "/api/v1/namespaces/ns/pods", as: admin, body: pod("p", node: "b", secret: "x"))
        XCTAssertEqual(created.status, 201, "\(created.body)")

        // The graph follows storage's watch: wait until node b may read, then node a must not.
        var owner = try await send(server, .GET, "/api/v1/namespaces/ns/secrets/x", as: Self.node("b"))
        for _ in 0..<100 where owner.status != 200 {
            try await Task.sleep(for: .milliseconds(20))
            owner = try await send(server, .GET, "/api/v1/namespaces/ns/secrets/x", as: Self.node("b"))
        }
        XCTAssertEqual(owner.status, 200)
        let other = try await send(server, .GET, "/api/v1/namespaces/ns/secrets/x", as: Self.node("a"))
        XCTAssertEqual(other.status, 403)
        XCTAssertEqual(
            other.body["message"]?.stringValue,
            "secrets \"x\" is forbidden: User \"system:node:a\" cannot get resource \"secrets\" in API group \"\" in the namespace \"ns\": no relationship found between node 'a' and this object"
        )

        // Deleting the pod cuts node b's path too.
        _ = try await send(server, .DELETE, "/api/v1/namespaces/ns/pods/p?gracePeriodSeconds=0", as: admin)
        for _ in 0..<100 where owner.status == 200 {
            try await Task.sleep(for: .milliseconds(20))
            owner = try await send(server, .GET, "/api/v1/namespaces/ns/secrets/x", as: Self.node("b"))
        }
        XCTAssertEqual(owner.status, 403)
    }

    func testNodeRestrictionKeepsANodeToItsOwnObjects() async throws {
        let server = try await makeServer()
        let nodeA = Self.node("a")
        _ = try await send(
            server, .POST, "/api/v1/namespaces/ns/pods", as: admin, body: pod("p", node: "b", secret: "x"))

        let plain = try await send(
            server, .POST, "/api/v1/namespaces/ns/pods", as: nodeA, body: pod("q", node: "a", secret: "y"))
        XCTAssertEqual(
            plain.body["message"]?.stringValue,
            "pods \"q\" is forbidden: pod does not have \"kubernetes.io/config.mirror\" annotation, node \"a\" can only create mirror pods"
        )
        let mirror = try await send(
            server, .POST, "/api/v1/namespaces/ns/pods", as: nodeA,
            body: pod("m", node: "b", secret: "y", annotations: ["kubernetes.io/config.mirror": "h"]))
        XCTAssertEqual(
            mirror.body["message"]?.stringValue,
            "pods \"m\" is forbidden: node \"a\" can only create pods with spec.nodeName set to itself")

        let delete = try await send(server, .DELETE, "/api/v1/namespaces/ns/pods/p", as: nodeA)
        XCTAssertEqual(delete.status, 403)
        XCTAssertEqual(
            delete.body["message"]?.stringValue,
            "pods \"p\" is forbidden: node \"a\" can only delete pods with spec.nodeName set to itself")

        let foreign: JSON = ["apiVersion": "v1", "kind": "Node", "metadata": ["name": "b"]]
        let register = try await send(server, .POST, "/api/v1/nodes", as: nodeA, body: foreign)
        XCTAssertEqual(
            register.body["message"]?.stringValue,
            "nodes \"b\" is forbidden: node \"a\" is not allowed to modify node \"b\"")

        let labelled: JSON = [
            "apiVersion": "v1", "kind": "Node",
            "metadata": [
                "name": "a",
                "labels": ["kubernetes.io/hostname": "a", "node-restriction.kubernetes.io/pool": "gold"],
            ],
        ]
        let own = try await send(server, .POST, "/api/v1/nodes", as: nodeA, body: labelled)
        XCTAssertEqual(
            own.body["message"]?.stringValue,
            "nodes \"a\" is forbidden: node \"a\" is not allowed to set the following labels: node-restriction.kubernetes.io/pool"
        )
        let allowed: JSON = [
            "apiVersion": "v1", "kind": "Node", "metadata": ["name": "a", "labels": ["kubernetes.io/hostname": "a"]],
        ]
        let registered = try await send(server, .POST, "/api/v1/nodes", as: nodeA, body: allowed)
        XCTAssertEqual(registered.status, 201, "\(registered.body)")
        let taint = try await send(
            server, .PATCH, "/api/v1/nodes/a", as: nodeA,
            body: ["spec": ["taints": [["key": "k", "effect": "NoSchedule"]]]],
            contentType: "application/merge-patch+json")
        XCTAssertEqual(
            taint.body["message"]?.stringValue, "nodes \"a\" is forbidden: node \"a\" is not allowed to modify taints")
    }
}

import APIMachinery
import ControllerManager
import Foundation
import Logging
import Storage
import TestSupport
import XCTest

@testable import APIServer

/// TaintNodesByCondition: a new Node is created with `node.kubernetes.io/not-ready:NoSchedule`, and the
/// controller-manager's node lifecycle controller (run here in-process against a server over TLS) removes it
/// once the node is Ready and keeps it while it is not.
final class TaintNodesByConditionTests: XCTestCase {
    static let fixture = Task { () throws -> KubectlTestServer in
        var configuration = APIServer.Configuration()
        configuration.admission = AdmissionChain(plugins: [TaintNodesByCondition()])
        let server = try await KubectlTestServer(address: "127.0.0.147", configuration: configuration)
        let kubeconfig = server.kubeconfig
        Task {
            await ControllerManagerCommand.run(
                arguments: [
                    "--kubeconfig=\(kubeconfig)", "--bind-address=127.0.0.147", "--secure-port=0",
                    "--leader-elect=false", "--controllers=node-lifecycle-controller",
                ], logger: Logger(label: "kube-controller-manager") { _ in SwiftLogNoOpLogHandler() })
        }
        return server
    }

    static let notReady: JSON = ["key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"]

    func admitted(_ node: JSON, operation: AdmissionAttributes.Operation = .create, subresource: String = "")
        async throws -> JSON
    {
        var object = node
        let attributes = AdmissionAttributes(
            operation: operation, resource: TaintNodesByCondition.nodes,
            kind: GroupVersionKind(group: "", version: "v1", kind: "Node"), subresource: subresource, namespace: nil,
            name: node.name ?? "", user: nil, dryRun: false)
        try await TaintNodesByCondition().admit(
            attributes, object: &object, context: APIServer(storage: MemoryStore(), configuration: .init()).context)
        return object
    }

    func testNewNodesGetTheNotReadyTaintOnce() async throws {
        let bare: JSON = ["metadata": ["name": "n1"]]
        let tainted = try await admitted(bare)
        XCTAssertEqual(tainted["spec"]?["taints"], [Self.notReady])
        let own: JSON = [
            "metadata": ["name": "n2"],
            "spec": ["taints": [["key": "dedicated", "value": "db", "effect": "NoSchedule"]]],
        ]
        let ownTainted = try await admitted(own)
        XCTAssertEqual(
            ownTainted["spec"]?["taints"],
            [["key": "dedicated", "value": "db", "effect": "NoSchedule"], Self.notReady])
        let already: JSON = [
            "metadata": ["name": "n3"],
            "spec": ["taints": [["key": "node.kubernetes.io/not-ready", "value": "x", "effect": "NoSchedule"]]],
        ]
        let unchanged = try await admitted(already)
        XCTAssertEqual(unchanged, already, "the same key and effect already taint it")
        let updated = try await admitted(bare, operation: .update)
        XCTAssertEqual(updated, bare, "updates are left alone")
        let status = try await admitted(bare, subresource: "status")
        XCTAssertEqual(status, bare, "status writes are left alone")
    }

    /// The node's taint keys and effects, `key:effect`, read with kubectl.
    func taints(_ server: KubectlTestServer, _ name: String) throws -> String {
        try server.kubectl(["get", "node", name, "-o", #"jsonpath={range .spec.taints[*]}{.key}:{.effect} {end}"#])
            .stdout
    }

    func waitFor(_ server: KubectlTestServer, _ name: String, _ condition: (String) -> Bool) async throws -> String {
        var current = ""
        for _ in 0..<200 {
            current = try taints(server, name)
            if condition(current) { return current }
            try await Task.sleep(for: .milliseconds(50))
        }
        return current
    }

    func testTheNodeLifecycleControllerRemovesTheTaintOnceTheNodeIsReady() async throws {
        let server = try await Self.fixture.value
        func node(_ name: String, ready: String) -> String {
            #"""
            {"apiVersion":"v1","kind":"Node","metadata":{"name":"\#(name)"},
             "status":{"conditions":[{"type":"Ready","status":"\#(ready)","reason":"Test"}]}}
            """#
        }
        let created = try server.kubectl(
            ["create", "-f", "-", "-o", #"jsonpath={.spec.taints[0].key}:{.spec.taints[0].effect}"#],
            input: node("ready-node", ready: "True"))
        XCTAssertEqual(created.stdout, "node.kubernetes.io/not-ready:NoSchedule", created.stderr)
        let cleared = try await waitFor(server, "ready-node") { !$0.contains("not-ready") }
        XCTAssertEqual(cleared, "", "the controller leaves the Ready node untainted")

        let pending = try server.kubectl(["create", "-f", "-"], input: node("pending-node", ready: "False"))
        XCTAssertEqual(pending.status, 0, pending.stderr)
        let patched = try server.kubectl([
            "patch", "node", "pending-node", "--subresource=status", "--type=merge", "-p",
            #"{"status":{"conditions":[{"type":"Ready","status":"False","reason":"Test"}]}}"#,
        ])
        XCTAssertEqual(patched.status, 0, patched.stderr)
        let kept = try await waitFor(server, "pending-node") { $0.contains("node.kubernetes.io/not-ready:NoSchedule") }
        XCTAssertTrue(kept.contains("node.kubernetes.io/not-ready:NoSchedule"), kept)
    }
}

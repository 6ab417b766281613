import Foundation
import TestSupport
import XCTest

/// The garbage collector and namespace controller in a real kube-controller-manager beside a real API server,
/// each acting as its own service account (upstream's `system:controller:*` roles), driven with kubectl.
final class LifecycleEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.88" }

    private var manager: ComponentProcess?

    override func tearDown() {
        _ = manager?.stop()
        manager = nil
        super.tearDown()
    }

    private func startManager(_ cluster: TestCluster) throws -> ComponentProcess {
        let kubeconfig = try cluster.kubeconfig(forUser: "system:kube-controller-manager")
        let process = try ComponentProcess(
            executable: "kube-controller-manager",
            arguments: [
                "--kubeconfig=\(kubeconfig)", "--bind-address=\(Self.clusterAddress)", "--secure-port=0",
                "--use-service-account-credentials", "--controllers=garbagecollector,namespace",
                "--leader-elect=false", "--v=2",
            ], directory: cluster.directory, logName: "lifecycle-manager")
        manager = process
        XCTAssertTrue(process.waitForLog("All resource monitors have synced"), process.log.suffix(3000).description)
        return process
    }

    func testDeletingAnOwnerWithKubectlCollectsItsDependentAndKeepsAnotherOwnersOne() throws {
        let cluster = try cluster
        let process = try startManager(cluster)
        expectSuccess(try cluster.kubectl(["create", "namespace", "gc"]))
        expectSuccess(try cluster.kubectl(["create", "configmap", "owner", "-n", "gc"]))
        expectSuccess(try cluster.kubectl(["create", "configmap", "keeper", "-n", "gc"]))
        let owner = try uid(cluster, "owner")
        let keeper = try uid(cluster, "keeper")
        expectSuccess(
            try cluster.kubectl(["create", "-f", "-"], input: Self.dependent("dependent", owners: [("owner", owner)])))
        expectSuccess(
            try cluster.kubectl(
                ["create", "-f", "-"], input: Self.dependent("shared", owners: [("owner", owner), ("keeper", keeper)])))

        expectSuccess(try cluster.kubectl(["delete", "configmap", "owner", "-n", "gc"]))
        let collected = poll {
            let output = try cluster.kubectl(["get", "configmap", "dependent", "-n", "gc"])
            return output.status != 0 && output.stderr.contains("NotFound") ? true : nil
        }
        XCTAssertEqual(collected, true, process.log.suffix(3000).description)
        let remaining = poll {
            let output = try cluster.kubectl(
                ["get", "configmap", "shared", "-n", "gc", "-o", "jsonpath={.metadata.ownerReferences[*].name}"])
            return output.status == 0 && output.stdout == "keeper" ? output.stdout : nil
        }
        XCTAssertEqual(remaining, "keeper", "the shared dependent stays and loses only the deleted owner's reference")
    }

    private func uid(_ cluster: TestCluster, _ name: String) throws -> String {
        let output = try cluster.kubectl(["get", "configmap", name, "-n", "gc", "-o", "jsonpath={.metadata.uid}"])
        guard output.status == 0, !output.stdout.isEmpty else { throw TestClusterError(output.stderr) }
        return output.stdout
    }

    private func poll<T>(timeout: TimeInterval = 30, _ probe: () throws -> T?) -> T? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let value = try? probe() { return value }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return nil
    }

    private static func dependent(_ name: String, owners: [(name: String, uid: String)]) -> String {
        let references = owners.map {
            #"{"apiVersion":"v1","kind":"ConfigMap","name":"\#($0.name)","uid":"\#($0.uid)"}"#
        }
        return #"""
            {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"\#(name)","namespace":"gc",
             "ownerReferences":[\#(references.joined(separator: ","))]}}
            """#
    }
}

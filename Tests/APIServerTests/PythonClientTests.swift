import TestSupport
import Foundation
import XCTest

/// The official Kubernetes Python client (`pip install kubernetes`, done by .ci/run) against a real server.
final class PythonClientTests: XCTestCase {
    func testOfficialClientCreatesListsWatchesAndDeletes() throws {
        // Bare: the script counts the watch events of its new namespace's config maps, and the controllers'
        // kube-root-ca.crt would be one more.
        let cluster = try TestCluster(address: "127.0.0.24", controllers: nil)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Python/official_client.py").path
        let output = try TestCluster.run("/usr/bin/env", ["python3", script, cluster.kubeconfig, "py-client"])
        XCTAssertEqual(output.status, 0, "stdout:\n\(output.stdout)\nstderr:\n\(output.stderr)")
        XCTAssertEqual(
            output.stdout.split(separator: "\n"),
            [
                "namespace created", "configmap created, read and replaced", "list with label selector",
                "404 as ApiException", "watch saw ADDED, MODIFIED, DELETED", "deployment created with server defaults",
            ])
    }
}

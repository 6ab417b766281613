import Foundation
import TestSupport
import XCTest

/// Custom resources through the official Kubernetes Python client (`kubernetes` 37, `CustomObjectsApi` and
/// `ApiextensionsV1Api`) against a real server over TLS: a definition with a schema (default, enum, CEL rule,
/// transition rule), printer columns and status and scale subresources; its objects created, listed, watched,
/// patched, applied, scaled, validated, pruned and defaulted; the definition's deletion taking them.
final class CustomResourcePythonTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.156" }
    override class var controllers: [String]? { nil }

    func testOfficialClientServesCustomResourcesEndToEnd() throws {
        let cluster = try cluster
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Python/custom_resources.py").path
        let output = try TestCluster.run("/usr/bin/env", ["python3", script, cluster.kubeconfig, "py-custom"])
        XCTAssertEqual(output.status, 0, "stdout:\n\(output.stdout)\nstderr:\n\(output.stderr)")
        XCTAssertEqual(
            output.stdout.split(separator: "\n"),
            [
                "definition established", "created, pruned and defaulted",
                "listed with a label selector and printer columns", "merge-patched and applied server-side",
                "scaled through the scale subresource", "422 as ApiException with upstream's message",
                "transition rule refused a bad update", "watch saw ADDED, MODIFIED, DELETED",
                "deleting the definition deleted its objects",
            ])
    }
}

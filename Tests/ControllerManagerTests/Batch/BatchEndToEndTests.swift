import Foundation
import TestSupport
import XCTest

/// The real kube-controller-manager with the job and ttl-after-finished controllers, each acting as its own
/// service account, driven by kubectl as an operator would: a Job runs its pods (the test plays the kubelet
/// through the status subresource), `kubectl wait` sees it complete, and its TTL then deletes it.
final class BatchEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.86" }

    private var manager: ComponentProcess?

    override func tearDown() {
        _ = manager?.stop(kill: true)
        manager = nil
        super.tearDown()
    }

    func testKubectlWaitSeesAJobCompleteAndItsTTLDeletesIt() throws {
        let cluster = try cluster
        let kubeconfig = try cluster.kubeconfig(forUser: "system:kube-controller-manager")
        let manager = try ComponentProcess(
            executable: "kube-controller-manager",
            arguments: [
                "--kubeconfig=\(kubeconfig)", "--bind-address=\(Self.clusterAddress)", "--secure-port=0",
                "--use-service-account-credentials", "--controllers=job,ttl-after-finished", "--leader-elect=false",
                "--v=2",
            ], directory: cluster.directory, logName: "batch-manager")
        self.manager = manager
        try expect(cluster, ["create", "namespace", "batch"])
        try expect(cluster, ["create", "-f", "-"], input: Self.job)

        let pods = poll { () -> [String]? in
            let names = try self.field(
                cluster,
                ["get", "pods", "-n", "batch", "-l", "job-name=work", "-o", "jsonpath={.items[*].metadata.name}"])
            let list = names.split(separator: " ").map(String.init)
            return list.count == 2 ? list : nil
        }
        let names = try XCTUnwrap(pods, manager.log.suffix(3000).description)
        let finalizers = try field(
            cluster, ["get", "pod", names[0], "-n", "batch", "-o", "jsonpath={.metadata.finalizers}"])
        XCTAssertTrue(finalizers.contains("batch.kubernetes.io/job-tracking"), finalizers)
        for name in names {
            try expect(
                cluster,
                [
                    "patch", "pod", name, "-n", "batch", "--subresource=status", "--type=merge", "-p",
                    #"{"status":{"phase":"Succeeded"}}"#,
                ])
        }
        let wait = try cluster.kubectl(["wait", "--for=condition=complete", "job/work", "-n", "batch", "--timeout=30s"])
        XCTAssertEqual(wait.status, 0, wait.stderr + manager.log.suffix(3000))
        XCTAssertEqual(
            try field(cluster, ["get", "job", "work", "-n", "batch", "-o", "jsonpath={.status.succeeded}"]), "2")
        let reasons = try field(
            cluster,
            [
                "get", "events", "-n", "batch", "--field-selector", "involvedObject.name=work", "-o",
                "jsonpath={.items[*].reason}",
            ])
        XCTAssertTrue(reasons.contains("Completed"), reasons)

        // ttlSecondsAfterFinished is 1: the Job goes (foreground: marked for deletion, or already gone).
        let deleted = poll { () -> Bool? in
            let output = try cluster.kubectl([
                "get", "job", "work", "-n", "batch", "-o", "jsonpath={.metadata.deletionTimestamp}",
            ])
            if output.status != 0 { return output.stderr.contains("NotFound") ? true : nil }
            return output.stdout.isEmpty ? nil : true
        }
        XCTAssertNotNil(deleted, manager.log.suffix(3000).description)
    }

    static let job = #"""
        {"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"work","namespace":"batch"},
         "spec":{"completions":2,"parallelism":2,"ttlSecondsAfterFinished":1,
                 "template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}
        """#

    private func expect(_ cluster: TestCluster, _ arguments: [String], input: String? = nil) throws {
        let output = try cluster.kubectl(arguments, input: input)
        XCTAssertEqual(output.status, 0, "kubectl \(arguments.joined(separator: " ")): \(output.stderr)")
    }

    private func field(_ cluster: TestCluster, _ arguments: [String]) throws -> String {
        let output = try cluster.kubectl(arguments)
        guard output.status == 0 else { throw TestClusterError(output.stderr) }
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
}

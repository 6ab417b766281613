import Foundation
import TestSupport
import XCTest

/// The real kube-controller-manager with the deployment and replicaset controllers, each acting as its own
/// service account, driven by kubectl as an operator would: `kubectl create deployment` makes pods, the test
/// plays the kubelet through the status subresource, `kubectl rollout status` returns, and an image change
/// and `kubectl rollout undo` roll forward and back.
final class WorkloadsEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.85" }

    private var manager: ComponentProcess?

    override func tearDown() {
        _ = manager?.stop(kill: true)
        manager = nil
        super.tearDown()
    }

    func testKubectlCreateDeploymentRollsOutAndRollsBack() throws {
        let cluster = try cluster
        let kubeconfig = try cluster.kubeconfig(forUser: "system:kube-controller-manager")
        let manager = try ComponentProcess(
            executable: "kube-controller-manager",
            arguments: [
                "--kubeconfig=\(kubeconfig)", "--bind-address=\(Self.clusterAddress)", "--secure-port=0",
                "--use-service-account-credentials", "--controllers=deployment,replicaset", "--leader-elect=false",
                "--v=2",
            ], directory: cluster.directory, logName: "workloads-manager")
        self.manager = manager
        try expect(cluster, ["create", "namespace", "apps"])
        try expect(cluster, ["create", "deployment", "web", "--image=nginx", "--replicas=3", "-n", "apps"])

        let pods = poll { () -> [String]? in
            let names = try self.podNames(cluster)
            return names.count == 3 ? names : nil
        }
        XCTAssertNotNil(pods, manager.log.suffix(3000).description)
        try rollOut(cluster, revision: "1")

        try expect(cluster, ["set", "image", "deployment/web", "nginx=nginx:1.27", "-n", "apps"])
        try rollOut(cluster, revision: "2")
        XCTAssertEqual(try images(cluster), ["nginx:1.27"])

        try expect(cluster, ["rollout", "undo", "deployment/web", "-n", "apps"])
        try rollOut(cluster, revision: "3")
        XCTAssertEqual(try images(cluster), ["nginx"])
        let history = try field(cluster, ["rollout", "history", "deployment/web", "-n", "apps"])
        XCTAssertTrue(history.contains("2 ") && history.contains("3 "), history)
    }

    /// Plays the kubelet until the Deployment reaches `revision` with every replica available, then checks
    /// that `kubectl rollout status` agrees.
    private func rollOut(_ cluster: TestCluster, revision: String) throws {
        let done = poll(timeout: 60) { () -> Bool? in
            try self.markPodsReady(cluster)
            let state = try self.field(
                cluster,
                [
                    "get", "deployment", "web", "-n", "apps", "-o",
                    #"jsonpath={.metadata.annotations.deployment\.kubernetes\.io/revision} {.status.updatedReplicas} {.status.availableReplicas} {.status.replicas}"#,
                ])
            return state == "\(revision) 3 3 3" ? true : nil
        }
        XCTAssertNotNil(done, manager?.log.suffix(3000).description ?? "")
        let status = try cluster.kubectl(["rollout", "status", "deployment/web", "-n", "apps", "--timeout=30s"])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.contains("successfully rolled out"), status.stdout)
    }

    private func markPodsReady(_ cluster: TestCluster) throws {
        let notReady = try field(
            cluster,
            [
                "get", "pods", "-n", "apps", "-o",
                #"jsonpath={range .items[?(@.status.phase=="Pending")]}{.metadata.name}{" "}{end}"#,
            ])
        for name in notReady.split(separator: " ") {
            _ = try cluster.kubectl([
                "patch", "pod", String(name), "-n", "apps", "--subresource=status", "--type=merge", "-p",
                #"{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}"#,
            ])
        }
    }

    private func podNames(_ cluster: TestCluster) throws -> [String] {
        try field(cluster, ["get", "pods", "-n", "apps", "-o", "jsonpath={.items[*].metadata.name}"])
            .split(separator: " ").map(String.init)
    }

    /// The distinct images of the pods not being deleted.
    private func images(_ cluster: TestCluster) throws -> Set<String> {
        let text = try field(
            cluster,
            [
                "get", "pods", "-n", "apps", "-o",
                #"jsonpath={range .items[*]}{.metadata.deletionTimestamp}/{.spec.containers[0].image}{" "}{end}"#,
            ])
        return Set(text.split(separator: " ").filter { $0.hasPrefix("/") }.map { String($0.dropFirst()) })
    }

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

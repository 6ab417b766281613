import Foundation
import TestSupport
import XCTest

/// Two real kube-controller-manager processes on one lease, as the guide's masters run them, each acting as
/// `system:kube-controller-manager` with per-controller service-account credentials: only the leader acts, and
/// when it is killed with kill -9 in the middle of a scale-up the other finishes it without an extra pod.
final class ControllerManagerLeaderElectionTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.93" }

    static let lease: TimeInterval = 4
    static let retry: TimeInterval = 1
    static let replicas = 40

    private var managers: [ComponentProcess] = []

    override func tearDown() {
        for manager in managers { manager.stop(kill: true) }
        managers = []
        super.tearDown()
    }

    func testKillingTheLeaderMidScaleUpLetsTheOtherFinishWithoutExtraPods() throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl(["create", "namespace", "le"]))
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: Self.replicaSet(replicas: 0)))
        let kubeconfig = try cluster.kubeconfig(forUser: "system:kube-controller-manager")
        let first = try startManager(cluster, kubeconfig: kubeconfig, "manager-a")
        let second = try startManager(cluster, kubeconfig: kubeconfig, "manager-b")
        let leader = try waitForLeader([first, second])
        let standby = leader === first ? second : first
        XCTAssertTrue(standby.waitForLog("attempting to acquire leader lease"))
        // Each controller acts as its own service account, which the manager creates in kube-system.
        XCTAssertNotNil(
            poll { try? self.field(cluster, ["get", "serviceaccount", "replicaset-controller", "-n", "kube-system"]) },
            leader.log.suffix(3000).description)

        expectSuccess(try cluster.kubectl(["scale", "replicaset", "web", "-n", "le", "--replicas=\(Self.replicas)"]))
        // The leader's client is slowed to a few requests a second, so the scale-up is still going when it dies.
        XCTAssertNotNil(poll { try self.podCount(cluster) >= 5 ? true : nil }, leader.log.suffix(3000).description)
        leader.send(SIGKILL)
        _ = leader.stop(kill: true)
        let createdByLeader = try podCount(cluster)
        XCTAssertLessThan(createdByLeader, Self.replicas, "the scale-up must still be under way when the leader dies")

        XCTAssertTrue(standby.waitForLog("successfully acquired lease", timeout: Self.lease + Self.retry + 5))
        XCTAssertNotNil(
            poll(timeout: 60) { try self.podCount(cluster) == Self.replicas ? true : nil },
            standby.log.suffix(3000).description)
        // Settled: no late creation from either manager.
        Thread.sleep(forTimeInterval: 2)
        XCTAssertEqual(try podCount(cluster), Self.replicas)
        let status = try field(
            cluster, ["get", "replicaset", "web", "-n", "le", "-o", "jsonpath={.status.replicas}"])
        XCTAssertEqual(status, "\(Self.replicas)")
    }

    private func startManager(_ cluster: TestCluster, kubeconfig: String, _ name: String) throws -> ComponentProcess {
        let process = try ComponentProcess(
            executable: "kube-controller-manager",
            arguments: [
                "--kubeconfig=\(kubeconfig)", "--bind-address=\(Self.clusterAddress)", "--secure-port=0",
                "--use-service-account-credentials", "--controllers=replicaset", "--kube-api-qps=4",
                "--kube-api-burst=4", "--v=2", "--leader-elect-lease-duration=\(Int(Self.lease))s",
                "--leader-elect-renew-deadline=3s", "--leader-elect-retry-period=\(Int(Self.retry))s",
            ], directory: cluster.directory, logName: name)
        managers.append(process)
        return process
    }

    private func waitForLeader(_ candidates: [ComponentProcess]) throws -> ComponentProcess {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let leader = candidates.first(where: { $0.log.contains("successfully acquired lease") }) {
                return leader
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw TestClusterError("no controller-manager became leader:\n" + candidates.map(\.log).joined())
    }

    private func podCount(_ cluster: TestCluster) throws -> Int {
        let names = try field(cluster, ["get", "pods", "-n", "le", "-o", "jsonpath={.items[*].metadata.name}"])
        return names.split(separator: " ").count
    }

    private func field(_ cluster: TestCluster, _ arguments: [String]) throws -> String {
        let output = try cluster.kubectl(arguments)
        guard output.status == 0 else { throw TestClusterError(output.stderr) }
        return output.stdout
    }

    private func poll<T>(timeout: TimeInterval = 20, _ probe: () throws -> T?) -> T? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let value = try? probe() { return value }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return nil
    }

    static func replicaSet(replicas: Int) -> String {
        #"""
        {"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"web","namespace":"le"},
         "spec":{"replicas":\#(replicas),"selector":{"matchLabels":{"app":"web"}},
                 "template":{"metadata":{"labels":{"app":"web"}},
                             "spec":{"containers":[{"name":"c","image":"nginx"}]}}}}
        """#
    }
}

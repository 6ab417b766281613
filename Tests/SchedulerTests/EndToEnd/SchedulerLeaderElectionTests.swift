import Foundation
import TestSupport
import XCTest

/// Several kube-scheduler processes on one lease: exactly one schedules; kill -9, SIGTERM and SIGSTOP of the
/// leader hand over as upstream's do, and no pod is ever bound twice. Short leases keep the test quick; the
/// default 15 s lease is measured by `scripts/scheduler-failover.sh`.
final class SchedulerLeaderElectionTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.82" }

    static let lease: TimeInterval = 4
    static let retry: TimeInterval = 1

    private var schedulers: [ComponentProcess] = []

    override func tearDown() {
        for scheduler in schedulers { scheduler.stop(kill: true) }
        schedulers = []
        super.tearDown()
    }

    func testOnlyTheLeaderSchedulesAndFailoverNeverBindsAPodTwice() throws {
        let cluster = try cluster
        expectSuccess(
            try cluster.kubectl(["create", "-f", "-"], input: Self.node("le-node")))
        expectSuccess(try cluster.kubectl(["create", "namespace", "le"]))
        let first = try startScheduler(cluster, "scheduler-a")
        let second = try startScheduler(cluster, "scheduler-b")
        let leader = try waitForLeader([first, second])
        let standby = leader === first ? second : first
        try createPods(cluster, prefix: "one", count: 5)
        try waitForBound(cluster, prefix: "one", count: 5)
        XCTAssertFalse(standby.log.contains("Successfully bound pod"), "a standby must not schedule")

        // kill -9: the standby takes over once the lease expires, within the lease plus a retry period.
        let killedAt = Date()
        leader.send(SIGKILL)
        _ = leader.stop(kill: true)
        XCTAssertTrue(standby.waitForLog("successfully acquired lease", timeout: Self.lease + Self.retry + 5))
        let failover = Date().timeIntervalSince(killedAt)
        XCTAssertLessThan(failover, Self.lease + 2 * Self.retry + 2, "failover after kill -9 took \(failover) s")
        try createPods(cluster, prefix: "two", count: 5)
        try waitForBound(cluster, prefix: "two", count: 5)

        // SIGTERM: the leader releases the lease, so a new standby takes over within about a retry period.
        let third = try startScheduler(cluster, "scheduler-c")
        XCTAssertTrue(third.waitForLog("attempting to acquire leader lease"))
        let terminatedAt = Date()
        XCTAssertEqual(standby.stop(), 0, "a leader stopped by SIGTERM exits cleanly")
        XCTAssertTrue(third.waitForLog("successfully acquired lease", timeout: 3 * Self.retry + 2))
        let handover = Date().timeIntervalSince(terminatedAt)
        XCTAssertLessThan(handover, 2 * Self.retry + 2, "hand-over after SIGTERM took \(handover) s")

        // SIGSTOP past the lease: another takes over; the stopped one, resumed, must stop acting and exit.
        let fourth = try startScheduler(cluster, "scheduler-d")
        XCTAssertTrue(fourth.waitForLog("attempting to acquire leader lease"))
        third.send(SIGSTOP)
        XCTAssertTrue(fourth.waitForLog("successfully acquired lease", timeout: Self.lease + Self.retry + 5))
        try createPods(cluster, prefix: "three", count: 5)
        third.send(SIGCONT)
        try waitForBound(cluster, prefix: "three", count: 5)
        let deadline = Date().addingTimeInterval(10)
        while third.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertFalse(third.isRunning, "a leader that lost its lease exits, as upstream's does")
        XCTAssertTrue(third.log.contains("leaderelection lost"), third.log.suffix(2000).description)

        // Every pod was bound exactly once across all four schedulers.
        let logs = [first, second, third, fourth].map(\.log).joined()
        for prefix in ["one", "two", "three"] {
            for index in 0..<5 {
                let line = "pod=le/\(prefix)-\(index)"
                let bound = logs.components(separatedBy: "\n").filter {
                    $0.contains("Successfully bound pod") && $0.contains(line)
                }
                XCTAssertEqual(bound.count, 1, "\(prefix)-\(index) was bound \(bound.count) times")
            }
        }
        let doubleBinds = logs.components(separatedBy: "\n").filter { $0.contains("already assigned") }
        XCTAssertEqual(doubleBinds, [], "no scheduler may try to bind a bound pod")
    }

    // MARK: Helpers

    private func startScheduler(_ cluster: TestCluster, _ name: String) throws -> ComponentProcess {
        let process = try ComponentProcess(
            executable: "kube-scheduler",
            arguments: [
                "--kubeconfig=\(cluster.kubeconfig)", "--secure-port=0", "--v=2",
                "--leader-elect-lease-duration=\(Int(Self.lease))s", "--leader-elect-renew-deadline=3s",
                "--leader-elect-retry-period=\(Int(Self.retry))s",
            ], directory: cluster.directory, logName: name)
        schedulers.append(process)
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
        throw TestClusterError("no scheduler became leader:\n" + candidates.map(\.log).joined(separator: "\n"))
    }

    private func createPods(_ cluster: TestCluster, prefix: String, count: Int) throws {
        let pods = (0..<count).map { index in
            #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(prefix)-\#(index)","namespace":"le"},"#
                + #""spec":{"containers":[{"name":"c","image":"nginx"}]}}"#
        }
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: pods.joined(separator: "\n")))
    }

    private func waitForBound(_ cluster: TestCluster, prefix: String, count: Int) throws {
        let deadline = Date().addingTimeInterval(20)
        var nodes: [String] = []
        while Date() < deadline {
            let output = try cluster.kubectl([
                "get", "pods", "-n", "le", "-o",
                "jsonpath={range .items[*]}{.metadata.name}={.spec.nodeName}{\"\\n\"}{end}",
            ])
            nodes = output.stdout.split(separator: "\n").map(String.init).filter {
                $0.hasPrefix("\(prefix)-") && !$0.hasSuffix("=")
            }
            if nodes.count == count { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        XCTFail("only \(nodes.count) of \(count) \(prefix) pods were bound")
    }

    static func node(_ name: String) -> String {
        let resources = #"{"cpu":"32","memory":"64Gi","pods":"110"}"#
        return #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"\#(name)"},"#
            + #""status":{"capacity":\#(resources),"allocatable":\#(resources)}}"#
    }
}

import Client
import Foundation
import NodeSimulator
import TestSupport
import XCTest

/// The simulator in this process with 3 nodes against a real kube-apiserver and a real kube-scheduler over TLS:
/// pods are created with kubectl, scheduled by the scheduler and run by the simulated nodes.
final class NodeSimulatorEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.84" }

    nonisolated(unsafe) private static var scheduler: ComponentProcess?
    nonisolated(unsafe) private static var simulator: (task: Task<Void, Never>, client: RESTClient)?

    override class func clusterStarted(_ cluster: TestCluster) throws {
        scheduler = try ComponentProcess(
            executable: "kube-scheduler",
            arguments: [
                "--kubeconfig=\(cluster.kubeconfig)", "--bind-address=\(clusterAddress)", "--secure-port=10259",
                "--leader-elect=false",
            ], directory: cluster.directory)
    }

    override class func tearDown() {
        simulator?.task.cancel()
        simulator = nil
        _ = scheduler?.stop()
        scheduler = nil
        super.tearDown()
    }

    override func setUp() async throws {
        try await super.setUp()
        guard Self.simulator == nil else { return }
        var configuration = NodeSimulatorConfiguration(count: 3, prefix: "e2e-")
        // A short lease period, so renewals (and their absence) show within a test.
        configuration.schedule = HeartbeatSchedule(leaseInterval: .seconds(1), statusInterval: .seconds(60))
        var clientConfiguration = try ClientConfiguration.load(kubeconfigPath: try cluster.kubeconfig)
        clientConfiguration.qps = 100
        clientConfiguration.burst = 200
        let client = try RESTClient(configuration: clientConfiguration)
        let simulator = NodeSimulator(configuration: configuration, client: client)
        Self.simulator = (Task { await simulator.run() }, client)
    }

    func testNodesRegisterReadyWithLeases() throws {
        let cluster = try cluster
        let ready = poll {
            let output = try? cluster.kubectl([
                "get", "nodes", "-o",
                #"jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}"#,
            ])
            let text = output?.stdout ?? ""
            return text.split(separator: " ").count == 3 ? text : nil
        }
        XCTAssertEqual(ready, "e2e-0=True e2e-1=True e2e-2=True ")
        let node = try cluster.kubectl([
            "get", "node", "e2e-1", "-o",
            "jsonpath={.metadata.labels.kubernetes\\.io/hostname} {.status.nodeInfo.kubeletVersion} "
                + "{.status.addresses[0].address} {.status.capacity.pods}",
        ])
        XCTAssertEqual(node.stdout, "e2e-1 v1.32.0 10.32.0.2 110")
        let leases = poll {
            let output = try? cluster.kubectl([
                "get", "leases", "-n", "kube-node-lease", "-o",
                "jsonpath={range .items[*]}{.spec.holderIdentity}/{.spec.leaseDurationSeconds} {end}",
            ])
            return output?.stdout.split(separator: " ").count == 3 ? output?.stdout : nil
        }
        XCTAssertEqual(leases, "e2e-0/40 e2e-1/40 e2e-2/40 ")
    }

    func testPodsGoRunningWithAnAddressAndReady() throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl(["run", "web", "--image=nginx"]))
        let running = poll { try? podField(cluster, "web", "{.status.phase}") == "Running" ? "yes" : nil }
        XCTAssertEqual(running, "yes")
        let ready = poll {
            try? podField(cluster, "web", #"{.status.conditions[?(@.type=="Ready")].status}"#) == "True" ? "yes" : nil
        }
        XCTAssertEqual(ready, "yes")
        let podIP = try podField(cluster, "web", "{.status.podIP}") ?? ""
        XCTAssertTrue(podIP.hasPrefix("10.64."), podIP)
        XCTAssertEqual(try podField(cluster, "web", "{.status.containerStatuses[0].ready}"), "true")
        XCTAssertEqual(
            try podField(cluster, "web", "{.status.containerStatuses[0].image}"), "docker.io/library/nginx:latest")
    }

    func testASleepThatNeverRestartsSucceeds() throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl(["run", "once", "--image=busybox", "--restart=Never", "--", "sleep", "1"]))
        let phase = poll { try? podField(cluster, "once", "{.status.phase}") == "Succeeded" ? "Succeeded" : nil }
        XCTAssertEqual(phase, "Succeeded")
        XCTAssertEqual(try podField(cluster, "once", "{.status.containerStatuses[0].state.terminated.exitCode}"), "0")
    }

    func testADeletedPodIsRemovedWithinSeconds() throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl(["run", "doomed", "--image=nginx"]))
        XCTAssertNotNil(poll { try? podField(cluster, "doomed", "{.status.phase}") == "Running" ? "yes" : nil })
        let started = Date()
        expectSuccess(try cluster.kubectl(["delete", "pod", "doomed", "--wait=false"]))
        let gone = poll {
            let output = try? cluster.kubectl(["get", "pod", "doomed"])
            return output?.stderr.contains("NotFound") == true ? "gone" : nil
        }
        XCTAssertEqual(gone, "gone")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    }

    func testAKilledContainerRestarts() throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl(["run", "victim", "--image=nginx"]))
        XCTAssertNotNil(poll { try? podField(cluster, "victim", "{.status.phase}") == "Running" ? "yes" : nil })
        expectSuccess(try cluster.kubectl(["annotate", "pod", "victim", "\(SimulatorAnnotations.kill)=@1"]))
        let restarts = poll {
            try? podField(cluster, "victim", "{.status.containerStatuses[0].restartCount}") == "1" ? "1" : nil
        }
        XCTAssertEqual(restarts, "1")
        XCTAssertEqual(
            try podField(cluster, "victim", "{.status.containerStatuses[0].lastState.terminated.exitCode}"), "137")
    }

    func testAStoppedNodeStopsRenewingItsLease() throws {
        let cluster = try cluster
        XCTAssertNotNil(poll { (try? leaseRenewTime(cluster, "e2e-2")) ?? nil })
        expectSuccess(
            try cluster.kubectl([
                "annotate", "node", "e2e-2", "\(SimulatorAnnotations.state)=\(SimulatorAnnotations.stopped)",
            ]))
        // Let a renewal already under way land, then watch the lease stand still for three periods.
        Thread.sleep(forTimeInterval: 1.5)
        let frozen = try leaseRenewTime(cluster, "e2e-2")
        Thread.sleep(forTimeInterval: 3)
        XCTAssertEqual(try leaseRenewTime(cluster, "e2e-2"), frozen)
        let other = try leaseRenewTime(cluster, "e2e-1")
        XCTAssertNotNil(poll { try? leaseRenewTime(cluster, "e2e-1") != other ? "renewed" : nil }, "other nodes go on")

        expectSuccess(try cluster.kubectl(["annotate", "node", "e2e-2", "\(SimulatorAnnotations.state)-"]))
        XCTAssertNotNil(
            poll { try? leaseRenewTime(cluster, "e2e-2") != frozen ? "renewed" : nil }, "a started node renews")
    }

    // MARK: Helpers

    private func podField(_ cluster: TestCluster, _ name: String, _ path: String) throws -> String? {
        let output = try cluster.kubectl(["get", "pod", name, "-o", "jsonpath=\(path)"])
        return output.stdout.isEmpty ? nil : output.stdout
    }

    private func leaseRenewTime(_ cluster: TestCluster, _ node: String) throws -> String? {
        let output = try cluster.kubectl([
            "get", "lease", node, "-n", "kube-node-lease", "-o", "jsonpath={.spec.renewTime}",
        ])
        return output.stdout.isEmpty ? nil : output.stdout
    }

    /// Calls `probe` until it gives a value (nil after `timeout`).
    private func poll(timeout: TimeInterval = 20, _ probe: () -> String?) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let value = probe() { return value }
            Thread.sleep(forTimeInterval: 0.2)
        }
        if let log = Self.scheduler?.log { print("kube-scheduler log:\n\(log.suffix(2000))") }
        return nil
    }
}

import APIMachinery
import Client
import Component
import Foundation
import Logging
import TestSupport
import XCTest

@testable import ControllerManager

/// Service and account controllers under test against the in-process API server: a namespace of their own,
/// informers scoped to it (cluster-scoped kinds are listed whole) unless `clusterWide`, a recorder, and the
/// server's PKI files.
final class ServicePlumbingHarness: @unchecked Sendable {
    let client: RESTClient
    let namespace: String
    let informers: SharedInformerFactory
    let recorder: EventRecorder
    /// The directory of the test server's certificates and keys (`ca.pem`, `kubernetes-key.pem`, …).
    let pkiDirectory: String
    private var tasks: [Task<Void, Never>] = []

    init(prefix: String, clusterWide: Bool = false) async throws {
        let endpoint = try await LocalAPIServer.shared.start()
        client = try RESTClient(kubeconfigPath: endpoint.kubeconfigPath)
        pkiDirectory = URL(fileURLWithPath: endpoint.kubeconfigPath).deletingLastPathComponent().path + "/pki"
        namespace = uniqueNamespace(prefix)
        try await client.createNamespace(namespace)
        informers = SharedInformerFactory(
            client: client, defaultScope: clusterWide ? .all : ListScope(namespace: namespace))
        recorder = EventRecorder(client: client, reportingController: "service-tests", reportingInstance: "tests")
    }

    /// The context a controller is built from, with `arguments` parsed over the manager's flags.
    func context(_ arguments: [String] = []) throws -> ControllerContext {
        var flags = FlagSet(ControllerManagerCommand.flags)
        try flags.parse(arguments)
        return ControllerContext(
            client: client, informers: informers, flags: flags, recorder: recorder,
            logger: Logger(label: "service-tests"))
    }

    /// Starts the informers and, once they have synced, every controller with two workers.
    func run(_ controllers: [any Controller]) async throws {
        informers.start()
        let synced = await informers.waitForCacheSync()
        XCTAssertTrue(synced)
        let recorder = self.recorder
        tasks.append(Task { await recorder.run() })
        for controller in controllers { tasks.append(Task { await controller.run(workers: 2) }) }
    }

    func stop() async {
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        await informers.shutdown()
        await client.shutdown()
    }

    func resource<T: KubernetesObject>(_ type: T.Type) -> ResourceClient<T> {
        ResourceClient(client: client, namespace: namespace)
    }

    /// Polls `check` every 50 ms until it returns a value; fails the test after `timeout` seconds.
    func eventually<T>(
        _ what: String, timeout: TimeInterval = 30, file: StaticString = #filePath, line: UInt = #line,
        _ check: () async throws -> T?
    ) async throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let value = try await check() { return value }
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTFail("timed out waiting for \(what)", file: file, line: line)
        throw CancellationError()
    }

    /// Creates pod `name` with `labels` on `node`, offering container port `http` (8080), retrying while the
    /// namespace's default service account is not there yet (the ServiceAccount admission plugin needs it).
    func createPod(_ name: String, labels: [String: String], node: String) async throws {
        var pod = Pod()
        pod.metadata.name = name
        pod.metadata.labels = labels
        pod.spec.nodeName = node
        pod.spec.containers = [
            Container(name: "web", image: "nginx", ports: [ContainerPort(containerPort: 8080, name: "http")])
        ]
        _ = try await eventually("pod \(name) created") { () -> Pod? in
            do {
                return try await resource(Pod.self).create(pod)
            } catch let error as StatusError where error.code == 403 || error.code == 500 {
                return nil
            }
        }
    }

    /// Gives pod `name` the address `ip`, phase Running and a Ready condition, through the status
    /// subresource as a kubelet would.
    func setRunning(_ name: String, ip: String, ready: Bool) async throws {
        var pod = try await resource(Pod.self).get(name)
        pod.status.phase = "Running"
        pod.status.podIP = ip
        pod.status.podIPs = [PodIP(ip: ip)]
        pod.status.conditions = [
            PodCondition(type: "Ready", status: ready ? "True" : "False", lastTransitionTime: Timestamp.now())
        ]
        _ = try await resource(Pod.self).updateStatus(pod)
    }
}

import APIMachinery
import Client
import Component
import Foundation
import Logging
import NIOConcurrencyHelpers
import TestSupport
import XCTest

@testable import ControllerManager

/// The workload controllers against the in-process API server: a namespace of their own, informers scoped
/// to it, a recorder, and, since there are no kubelets, a stand-in that marks pods Running and Ready.
final class WorkloadTestHarness: Sendable {
    /// The test's own client, unthrottled, so its polling never takes the controllers' request budget.
    let client: RESTClient
    /// The controllers' client, throttled as the controller-manager's (`--kube-api-qps=20 --kube-api-burst=30`).
    let controllerClient: RESTClient
    let namespace: String
    let informers: SharedInformerFactory
    let recorder: EventRecorder
    private let tasks = NIOLockedValueBox<[Task<Void, Never>]>([])

    init(prefix: String) async throws {
        let endpoint = try await LocalAPIServer.shared.start()
        var configuration = try ClientConfiguration.load(kubeconfigPath: endpoint.kubeconfigPath)
        configuration.qps = 1000
        configuration.burst = 1000
        client = try RESTClient(configuration: configuration)
        configuration.qps = 20
        configuration.burst = 30
        controllerClient = try RESTClient(configuration: configuration)
        namespace = uniqueNamespace(prefix)
        try await client.createNamespace(namespace)
        informers = SharedInformerFactory(client: controllerClient, defaultScope: ListScope(namespace: namespace))
        recorder = EventRecorder(
            client: controllerClient, reportingController: "workload-tests", reportingInstance: "tests")
    }

    func context() throws -> ControllerContext {
        ControllerContext(
            client: controllerClient, informers: informers, flags: FlagSet(ControllerManagerCommand.flags),
            recorder: recorder,
            logger: Logger(label: "workload-tests"))
    }

    /// Builds the replica set, replication controller and deployment controllers, syncs the informers and runs them.
    func start() async throws {
        let context = try context()
        let controllers: [any Controller] = [
            ReplicaSetController(context: context), ReplicationManager(context: context),
            DeploymentController(context: context),
        ]
        informers.start()
        let synced = await informers.waitForCacheSync()
        XCTAssertTrue(synced)
        let recorder = self.recorder
        var started = [Task { await recorder.run() }]
        for controller in controllers { started.append(Task { await controller.run(workers: 2) }) }
        tasks.withLockedValue { $0 += started }
    }

    /// Marks every live pod that is not yet ready Running and Ready, over and over, as kubelets would.
    func startKubelet() {
        let task = Task { [self] in
            while !Task.isCancelled {
                if let list = try? await pods.list() {
                    for pod in list.items where !pod.metadata.isDeleting && !PodAvailability.isReady(pod) {
                        try? await markReady(pod.metadata.name ?? "")
                    }
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        tasks.withLockedValue { $0.append(task) }
    }

    func stop() async {
        let running = tasks.withLockedValue { $0 }
        for task in running { task.cancel() }
        for task in running { await task.value }
        await informers.shutdown()
        await controllerClient.shutdown()
        await client.shutdown()
    }

    var pods: ResourceClient<Pod> { ResourceClient(client: client, namespace: namespace) }
    var replicaSets: ResourceClient<ReplicaSet> { ResourceClient(client: client, namespace: namespace) }
    var deployments: ResourceClient<Deployment> { ResourceClient(client: client, namespace: namespace) }
    var replicationControllers: ResourceClient<ReplicationController> {
        ResourceClient(client: client, namespace: namespace)
    }

    /// The pods that count toward a controller: not finished, not being deleted.
    func livePods() async throws -> [Pod] {
        try await pods.list().items.filter(PodAvailability.isActive)
    }

    /// Sets pod `name` Running with a Ready condition through the status subresource.
    func markReady(_ name: String) async throws {
        var pod = try await pods.get(name)
        pod.status.phase = "Running"
        pod.status.conditions = [
            PodCondition(type: "Ready", status: "True", lastTransitionTime: Timestamp.now())
        ]
        _ = try await pods.updateStatus(pod)
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

    /// The notes of events with `reason` about object `name`.
    func events(about name: String, reason: String) async throws -> [String] {
        let list = try await client.getJSON(path: "/apis/events.k8s.io/v1/namespaces/\(namespace)/events")
        return (list["items"]?.arrayValue ?? []).filter {
            $0[path: "regarding", "name"]?.stringValue == name && $0["reason"]?.stringValue == reason
        }.compactMap { $0["note"]?.stringValue }
    }

    /// A template of one `web` container running `image`, labelled `app=<app>`.
    static func template(app: String, image: String = "nginx") -> PodTemplateSpec {
        var metadata = ObjectMeta()
        metadata.labels = ["app": app]
        return PodTemplateSpec(metadata: metadata, spec: PodSpec(containers: [Container(name: "web", image: image)]))
    }
}

import APIMachinery
import Client
import Component
import Foundation
import Logging
import NIOConcurrencyHelpers
import TestSupport
import XCTest

@testable import ControllerManager

/// The daemon set, stateful set, disruption and quota controllers against the in-process API server: a
/// namespace of their own, informers scoped to it, and helpers that write pod status as kubelets would.
final class ControllerTestBed: Sendable {
    let client: RESTClient
    let namespace: String
    let informers: SharedInformerFactory
    let recorder: EventRecorder
    private let tasks = NIOLockedValueBox<[Task<Void, Never>]>([])

    init(prefix: String) async throws {
        let endpoint = try await LocalAPIServer.shared.start()
        client = try RESTClient(kubeconfigPath: endpoint.kubeconfigPath)
        namespace = uniqueNamespace(prefix)
        try await client.createNamespace(namespace)
        informers = SharedInformerFactory(client: client, defaultScope: ListScope(namespace: namespace))
        recorder = EventRecorder(client: client, reportingController: "controller-tests", reportingInstance: "tests")
    }

    func context(flags: [String] = []) throws -> ControllerContext {
        var set = FlagSet(ControllerManagerCommand.flags)
        try set.parse(flags)
        return ControllerContext(
            client: client, informers: informers, flags: set, recorder: recorder,
            logger: Logger(label: "controller-tests"))
    }

    /// Syncs the informers the controllers registered and runs them.
    func run(_ controllers: [any Controller]) async {
        informers.start()
        let synced = await informers.waitForCacheSync()
        XCTAssertTrue(synced)
        let recorder = self.recorder
        var started = [Task { await recorder.run() }]
        for controller in controllers { started.append(Task { await controller.run(workers: 2) }) }
        tasks.withLockedValue { $0 += started }
    }

    /// Marks every live pod that is not yet ready Running and Ready, over and over, as kubelets would;
    /// `only` narrows it to the pods it accepts.
    func startKubelet(only accept: @escaping @Sendable (Pod) -> Bool = { _ in true }) {
        let task = Task { [self] in
            while !Task.isCancelled {
                if let list = try? await pods.list() {
                    for pod in list.items
                    where !pod.metadata.isDeleting && !PodAvailability.isReady(pod) && accept(pod) {
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
        await client.shutdown()
    }

    var pods: ResourceClient<Pod> { ResourceClient(client: client, namespace: namespace) }

    func resource<T: KubernetesObject>(_ type: T.Type) -> ResourceClient<T> {
        ResourceClient(client: client, namespace: T.resource.namespaced ? namespace : nil)
    }

    /// Pods not being deleted, by name.
    func livePods() async throws -> [Pod] {
        try await pods.list().items.filter { !$0.metadata.isDeleting }.sorted {
            ($0.metadata.name ?? "") < ($1.metadata.name ?? "")
        }
    }

    /// Sets pod `name` Running with a Ready condition through the status subresource.
    func markReady(_ name: String) async throws {
        var pod = try await pods.get(name)
        pod.status.phase = "Running"
        pod.status.conditions = [PodCondition(type: "Ready", status: "True", lastTransitionTime: Timestamp.now())]
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

    /// A template of one `main` container running `image`, labelled `app=<app>`.
    static func template(app: String, image: String = "nginx") -> PodTemplateSpec {
        var metadata = ObjectMeta()
        metadata.labels = ["app": app]
        return PodTemplateSpec(metadata: metadata, spec: PodSpec(containers: [Container(name: "main", image: image)]))
    }

    /// A selector for `app=<app>`.
    static func selector(app: String) -> MetaLabelSelector {
        var selector = MetaLabelSelector()
        selector.matchLabels = ["app": app]
        return selector
    }
}

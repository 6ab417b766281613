import APIMachinery
import Client
import Component
import Foundation
import Logging
import TestSupport
import XCTest

@testable import ControllerManager

/// One controller under test against the in-process API server: its own namespace, informers scoped to it,
/// a recorder, and a fake clock that starts at the real time (the server stamps objects with real time).
final class BatchTestHarness {
    let client: RESTClient
    let namespace: String
    let informers: SharedInformerFactory
    let recorder: EventRecorder
    let time: FakeTime
    private var tasks: [Task<Void, Never>] = []

    init(prefix: String) async throws {
        let endpoint = try await LocalAPIServer.shared.start()
        client = try RESTClient(kubeconfigPath: endpoint.kubeconfigPath)
        namespace = uniqueNamespace(prefix)
        try await client.createNamespace(namespace)
        informers = SharedInformerFactory(client: client, defaultScope: ListScope(namespace: namespace))
        time = FakeTime(wallNow: Date())
        recorder = EventRecorder(client: client, reportingController: "batch-tests", reportingInstance: "tests")
    }

    /// The context a controller is built from, with `arguments` parsed over the manager's flags.
    func context(_ arguments: [String] = []) throws -> ControllerContext {
        var flags = FlagSet(ControllerManagerCommand.flags)
        try flags.parse(arguments)
        return ControllerContext(
            client: client, informers: informers, flags: flags, recorder: recorder, time: time,
            logger: Logger(label: "batch-tests"))
    }

    /// Starts the informers and, once they have synced, `controller` with two workers.
    func run(_ controller: any Controller) async throws {
        informers.start()
        let synced = await informers.waitForCacheSync()
        XCTAssertTrue(synced)
        let recorder = self.recorder
        tasks.append(Task { await recorder.run() })
        tasks.append(Task { await controller.run(workers: 2) })
    }

    func stop() async {
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        await informers.shutdown()
        await client.shutdown()
    }

    var jobs: ResourceClient<Job> { ResourceClient(client: client, namespace: namespace) }
    var pods: ResourceClient<Pod> { ResourceClient(client: client, namespace: namespace) }
    var cronJobs: ResourceClient<CronJob> { ResourceClient(client: client, namespace: namespace) }

    /// Polls `check` every 50 ms until it returns a value, moving the fake clock on by `advance` each round so
    /// controllers waiting on it (backoff, schedules, TTLs, a conflict's rate-limited retry) wake; fails the
    /// test after `timeout` real seconds.
    func eventually<T>(
        _ what: String, timeout: TimeInterval = 30, advance: Duration = .milliseconds(100),
        file: StaticString = #filePath, line: UInt = #line, _ check: () async throws -> T?
    ) async throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let value = try await check() { return value }
            if advance > .zero { time.advance(by: advance) }
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTFail("timed out waiting for \(what)", file: file, line: line)
        throw CancellationError()
    }

    /// Sets `phase` (and a Ready condition for Running) on pod `name` through the status subresource, as a
    /// kubelet would.
    func setPhase(_ name: String, _ phase: String, exitCode: Int32? = nil) async throws {
        var pod = try await pods.get(name)
        pod.status.phase = phase
        pod.status.conditions = [PodCondition(type: "Ready", status: phase == "Running" ? "True" : "False")]
        if let exitCode {
            pod.status.containerStatuses = [
                ContainerStatus(
                    name: pod.spec.containers.first?.name ?? "main",
                    state: ContainerState(
                        terminated: ContainerStateTerminated(
                            exitCode: exitCode,
                            finishedAt: Timestamp.format(epochSeconds: Int64(time.wallNow.timeIntervalSince1970)))))
            ]
        }
        _ = try await pods.updateStatus(pod)
    }

    /// The reasons of the events recorded about object `name` in the namespace.
    func eventReasons(about name: String) async throws -> [String] {
        let list = try await client.getJSON(path: "/apis/events.k8s.io/v1/namespaces/\(namespace)/events")
        return (list["items"]?.arrayValue ?? []).filter { $0[path: "regarding", "name"]?.stringValue == name }
            .compactMap { $0["reason"]?.stringValue }
    }

    /// A pod template running one container that never restarts.
    static func template(labels: [String: String] = [:]) -> PodTemplateSpec {
        var metadata = ObjectMeta()
        metadata.labels = labels
        var spec = PodSpec()
        spec.containers = [Container(name: "main", image: "busybox")]
        spec.restartPolicy = "Never"
        return PodTemplateSpec(metadata: metadata, spec: spec)
    }
}

import APIMachinery
import Client
import Component
import Foundation
import Logging
import TestSupport
import XCTest

@testable import ControllerManager

/// Node controllers under test against the in-process API server: informers over the whole cluster (nodes
/// are cluster-scoped), a recorder, and a fake clock starting at the real time. Tests use node names unique
/// to them and delete their nodes at the end.
final class NodeTestHarness: @unchecked Sendable {
    let client: RESTClient
    let namespace: String
    let informers: SharedInformerFactory
    let recorder: EventRecorder
    let time = FakeTime(wallNow: Date())
    let suffix = UUID().uuidString.prefix(8).lowercased()
    private var tasks: [Task<Void, Never>] = []
    private var createdNodes: [String] = []
    private let lastLeases = NodeTestLocked<[String: Lease]>([:])

    init(prefix: String) async throws {
        let endpoint = try await LocalAPIServer.shared.start()
        client = try RESTClient(kubeconfigPath: endpoint.kubeconfigPath)
        namespace = uniqueNamespace(prefix)
        try await client.createNamespace(namespace)
        informers = SharedInformerFactory(client: client)
        recorder = EventRecorder(client: client, reportingController: "node-tests", reportingInstance: "tests")
    }

    /// The context controllers are built from, with `arguments` parsed over the manager's flags.
    func context(_ arguments: [String] = []) throws -> ControllerContext {
        var flags = FlagSet(ControllerManagerCommand.flags)
        try flags.parse(arguments)
        return ControllerContext(
            client: client, informers: informers, flags: flags, recorder: recorder, time: time,
            logger: Logger(label: "node-tests"))
    }

    /// Starts the informers and, once they have synced, `controllers`.
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
        for name in createdNodes { try? await nodes.delete(name) }
        await client.shutdown()
    }

    var nodes: ResourceClient<Node> { ResourceClient(client: client) }
    var pods: ResourceClient<Pod> { ResourceClient(client: client, namespace: namespace) }
    var leases: ResourceClient<Lease> { ResourceClient(client: client, namespace: "kube-node-lease") }

    /// A name unique to this test.
    func unique(_ name: String) -> String { "\(name)-\(suffix)" }

    /// Creates node `name` in `zone`, Ready with a fresh heartbeat as a kubelet posts it, and its Lease.
    @discardableResult
    func createReadyNode(_ name: String, zone: String, podCIDRs: [String] = []) async throws -> Node {
        var node = Node(metadata: ObjectMeta(labels: ["topology.kubernetes.io/zone": zone], name: name))
        node.spec.podCIDRs = podCIDRs
        node.spec.podCIDR = podCIDRs.first
        node = try await nodes.create(node)
        createdNodes.append(name)
        let now = Timestamp.now()
        node.status.conditions = [
            NodeCondition(
                type: "Ready", status: "True", lastHeartbeatTime: now, lastTransitionTime: now,
                message: "kubelet is posting ready status", reason: "KubeletReady")
        ]
        node = try await nodes.updateStatus(node)
        try await renewLease(name)
        return node
    }

    /// Changes node `name` (its spec, or its status when `status` is set) with `change`, retrying on conflicts
    /// with the controllers writing the same node.
    func updateNode(_ name: String, status: Bool = false, _ change: (inout Node) -> Void) async throws {
        for _ in 0..<10 {
            var node = try await nodes.get(name)
            change(&node)
            do {
                _ = try await status ? nodes.updateStatus(node) : nodes.update(node)
                return
            } catch let error as StatusError where error.code == 409 {
                continue
            }
        }
        XCTFail("node \(name) kept conflicting")
    }

    /// Creates or renews node `name`'s Lease with the current real time, as a kubelet every 10 s: one update
    /// of the Lease last written, read afresh only on a conflict.
    func renewLease(_ name: String) async throws {
        let renewTime = Timestamp.format(epochMicroseconds: Int64(Date().timeIntervalSince1970 * 1_000_000))
        if var lease = lastLeases.withLock({ $0[name] }) {
            lease.spec.renewTime = renewTime
            do {
                let renewed = try await leases.update(lease)
                lastLeases.withLock { $0[name] = renewed }
                return
            } catch let error as StatusError where error.code == 409 {
                lastLeases.withLock { $0[name] = nil }
            }
        }
        var lease: Lease
        do {
            lease = try await leases.get(name)
            lease.spec.renewTime = renewTime
            lease = try await leases.update(lease)
        } catch let error as StatusError where error.code == 404 {
            lease = try await leases.create(
                Lease(
                    metadata: ObjectMeta(name: name, namespace: "kube-node-lease"),
                    spec: LeaseSpec(holderIdentity: name, leaseDurationSeconds: 40, renewTime: renewTime)))
        }
        lastLeases.withLock { $0[name] = lease }
    }

    /// Creates pod `name` bound to `node` with `tolerations`, Running and Ready as its kubelet would report.
    @discardableResult
    func createRunningPod(_ name: String, on node: String, tolerations: [Toleration] = []) async throws -> Pod {
        var spec = PodSpec()
        spec.containers = [Container(name: "main", image: "busybox")]
        spec.nodeName = node
        spec.tolerations = tolerations
        var pod = try await pods.create(Pod(metadata: ObjectMeta(name: name, namespace: namespace), spec: spec))
        pod.status.phase = "Running"
        pod.status.conditions = [PodCondition(type: "Ready", status: "True")]
        return try await pods.updateStatus(pod)
    }

    /// Whether pod `name` is gone or terminating.
    func podIsGoing(_ name: String) async throws -> Bool {
        do {
            return try await pods.get(name).metadata.deletionTimestamp != nil
        } catch let error as StatusError where error.code == 404 {
            return true
        }
    }

    /// The reasons of the events recorded about `name` (in `namespace`, or cluster-wide events in `default`).
    func eventReasons(about name: String, namespace: String) async throws -> [String] {
        let list = try await client.getJSON(path: "/apis/events.k8s.io/v1/namespaces/\(namespace)/events")
        return (list["items"]?.arrayValue ?? []).filter { $0[path: "regarding", "name"]?.stringValue == name }
            .compactMap { $0["reason"]?.stringValue }
    }

    /// Polls `check` every 50 ms until it returns a value, running `step` (moving the fake clock, renewing
    /// leases) each round; fails the test after `timeout` real seconds.
    func eventually<T>(
        _ what: String, timeout: TimeInterval = 30, file: StaticString = #filePath, line: UInt = #line,
        step: () async throws -> Void = {}, _ check: () async throws -> T?
    ) async throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let value = try await check() { return value }
            try await step()
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTFail("timed out waiting for \(what)", file: file, line: line)
        throw CancellationError()
    }

    /// Polls `condition` every 10 ms for up to 10 real seconds.
    static func poll(_ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(10)
        while !condition() {
            guard Date() < deadline else {
                XCTFail("condition not met in time")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// A value tests share between tasks.
final class NodeTestLocked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.withLock { body(&value) }
    }
}

/// A counter tests bump from `@Sendable` closures.
final class NodeTestCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}

public import Client
import Foundation
public import Logging
import NIOConcurrencyHelpers

/// Simulated kubelets without containers, kwok's role: N nodes in one process register, keep their Leases and
/// status fresh, and run the pods bound to them through `PodStateMachine`s, reporting status as a kubelet does.
///
/// One pod informer (every pod with a `spec.nodeName`) and one node informer serve all nodes; one work queue of
/// node and pod keys feeds a few workers, so the cost per idle node is a record and its heartbeats.
///
/// ```swift
/// let simulator = NodeSimulator(configuration: NodeSimulatorConfiguration(count: 3), client: client)
/// let task = Task { await simulator.run() }   // cancel to stop
/// ```
public final class NodeSimulator: Sendable {
    /// What the queue holds: a node to heartbeat or register, or a pod to sync.
    enum WorkKey: Hashable, Sendable {
        case node(String)
        case pod(ObjectKey)
    }

    public let configuration: NodeSimulatorConfiguration
    let credentials: any NodeCredentials
    let informers: SharedInformerFactory
    let pods: SharedIndexInformer<Pod>
    let nodes: SharedIndexInformer<Node>
    let queue: RateLimitingQueue<WorkKey>
    let time: any TimeSource
    let logger: Logger
    /// The names this simulator owns, fixed at start, read without a lock by the informer handlers.
    let nodeNames: Set<String>
    let state: NIOLockedValueBox<SimulatorState>

    /// A simulator of `configuration`'s nodes that watches through `client` and writes through `credentials`
    /// (the same client for every node when nil); the simulator runs the credentials and shuts them down when it
    /// stops. Its caches drop `managedFields`, which it never reads.
    public init(
        configuration: NodeSimulatorConfiguration, client: RESTClient, credentials: (any NodeCredentials)? = nil,
        time: any TimeSource = SystemTime(), logger: Logger = Logger(label: "kubeswift.node-simulator")
    ) {
        self.configuration = configuration
        self.credentials = credentials ?? SharedNodeCredentials(client: client)
        self.time = time
        self.logger = logger
        informers = SharedInformerFactory(client: client, time: time, logger: logger, transform: StripManagedFields())
        // Every pod bound to some node: a field selector per node would cost a watch per node.
        pods = informers.informer(for: Pod.self, scope: ListScope(fieldSelector: "spec.nodeName!="))
        // The factory is the simulator's own, so the index cannot exist already.
        try? pods.indexer.addIndexers([Self.nodeIndex: { [$0.spec.nodeName ?? ""] }])
        nodes = informers.informer(for: Node.self)
        queue = RateLimitingQueue(
            name: "node-simulator",
            rateLimiter: ItemExponentialFailureRateLimiter<WorkKey>(base: .milliseconds(200), maximum: .seconds(30)),
            time: time)
        var records: [String: NodeRecord] = [:]
        for index in 0..<max(configuration.count, 0) {
            let template = NodeTemplate(index: index, configuration: configuration)
            records[template.name] = NodeRecord(template: template, now: time.wallNow)
        }
        nodeNames = Set(records.keys)
        state = NIOLockedValueBox(SimulatorState(nodes: records))
    }

    /// Runs until the task is cancelled: starts the informers, registers the nodes, then heartbeats and syncs pods.
    /// Call it once per simulator.
    public func run() async {
        _ = nodes.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] node, _ in observe(node) }, onUpdate: { [self] _, node in observe(node) },
                onDelete: { [self] event in nodeDeleted(event.key.name) }))
        _ = pods.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] pod, _ in enqueue(pod) }, onUpdate: { [self] _, pod in enqueue(pod) },
                onDelete: { [self] event in enqueue(event.object) }))
        informers.start()
        await withTaskCancellationHandler {
            guard await informers.waitForCacheSync() else { return }
            logger.info("node simulator started", metadata: ["nodes": "\(configuration.count)"])
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.credentials.run() }
                group.addTask { await self.joinNodes() }
                for _ in 0..<max(configuration.workers, 1) {
                    group.addTask { await self.work() }
                }
            }
        } onCancel: {
            queue.shutDown()
        }
        queue.shutDown()
        await informers.shutdown()
        await credentials.shutdown()
        logger.info("node simulator stopped")
    }

    /// Joins every node (`concurrentJoins` at a time) and queues each for registration once it has its
    /// identity. A node the cluster refuses stays out, with the refusal logged; other failures are tried again.
    private func joinNodes() async {
        await withTaskGroup(of: Void.self) { group in
            for (started, name) in nodeNames.sorted().enumerated() {
                if started >= max(configuration.concurrentJoins, 1) { await group.next() }
                guard !Task.isCancelled else { return }
                group.addTask { await self.join(name) }
            }
        }
    }

    private func join(_ name: String) async {
        var delay = Duration.seconds(1)
        while !Task.isCancelled {
            do {
                try await credentials.join(node: name)
                queue.add(.node(name))
                return
            } catch let refused as NodeJoinRefused {
                logger.error("node cannot join", metadata: ["node": "\(name)", "error": "\(refused)"])
                state.withLockedValue { $0.refusedNodes += 1 }
                return
            } catch {
                if Task.isCancelled { return }
                logger.warning("node join failed; trying again", metadata: ["node": "\(name)", "error": "\(error)"])
                state.withLockedValue { $0.failures += 1 }
                guard (try? await time.sleep(for: delay)) != nil else { return }
                delay = min(delay * 2, .seconds(60))
            }
        }
    }

    /// What the simulator has done so far.
    public var statistics: Statistics {
        state.withLockedValue { state in
            Statistics(
                registeredNodes: state.nodes.values.filter(\.registered).count,
                stoppedNodes: state.nodes.values.filter(\.stopped).count, pods: state.pods.count,
                runningPods: state.pods.values.reduce(0) { $0 + ($1.machine.phase == .running ? 1 : 0) },
                refusedNodes: state.refusedNodes, requests: state.requests, failures: state.failures)
        }
    }

    /// Counts for the operator and benches.
    public struct Statistics: Sendable, Hashable {
        public var registeredNodes: Int
        public var stoppedNodes: Int
        /// Pods the simulator is running (or stopping).
        public var pods: Int
        /// Of those, the pods in phase Running.
        public var runningPods: Int
        /// Nodes whose certificate request was denied or failed: they never register.
        public var refusedNodes: Int
        /// Writes sent, by what they were: `lease`, `node-status`, `node-create`, `pod-status`, `pod-delete`.
        public var requests: [String: Int]
        public var failures: Int
    }

    private func work() async {
        while let key = await queue.get() {
            let succeeded: Bool
            switch key {
            case .node(let name): succeeded = await syncNode(name)
            case .pod(let key): succeeded = await syncPod(key)
            }
            if succeeded {
                queue.forget(key)
            } else {
                state.withLockedValue { $0.failures += 1 }
                queue.addRateLimited(key)
            }
            queue.done(key)
        }
    }

    /// Queues `key` again in `delay` (at once when it is not positive).
    func requeue(_ key: WorkKey, at deadline: Date) {
        let delay = deadline.timeIntervalSince(time.wallNow)
        if delay <= 0 {
            queue.add(key)
        } else {
            queue.add(key, after: .milliseconds(Int64((delay * 1_000).rounded(.up))))
        }
    }

    func count(_ request: String) {
        state.withLockedValue { $0.requests[request, default: 0] += 1 }
    }

    /// The pod cache's index by `spec.nodeName`.
    static let nodeIndex = "spec.nodeName"

    /// Queues every cached pod bound to node `name` (a node registering or starting again).
    func enqueuePods(onNode name: String) {
        for key in (try? pods.indexer.indexKeys(Self.nodeIndex, name)) ?? [] { queue.add(.pod(key)) }
    }

    private func enqueue(_ pod: Pod) {
        guard let node = pod.spec.nodeName, nodeNames.contains(node) else { return }
        queue.add(.pod(pod.key))
    }
}

/// Everything the simulator remembers, under one lock.
struct SimulatorState: Sendable {
    var nodes: [String: NodeRecord]
    var pods: [ObjectKey: PodRecord] = [:]
    var requests: [String: Int] = [:]
    var failures = 0
    var refusedNodes = 0
}

/// One simulated node's registration, heartbeat times and pod addresses.
struct NodeRecord: Sendable {
    let template: NodeTemplate
    var registered = false
    var stopped = false
    /// Deleted from the API after registering: as a kubelet, the node does not register again until restarted.
    var deleted = false
    var uid: String?
    /// The last Lease written or read, so a renewal is one update.
    var lease: Lease?
    var nextLease: Date
    var nextStatus: Date
    /// Since when the node has been Ready, for the conditions' transition time.
    var readySince: Date
    /// A status post is due whatever the time (registration, restart).
    var statusDirty = true
    var addresses: PodAddressPool

    init(template: NodeTemplate, now: Date) {
        self.template = template
        nextLease = now
        nextStatus = now
        readySince = now
        addresses = SimulatedNetwork.podAddresses(index: template.index)
    }
}

/// One pod the simulator runs.
struct PodRecord: Sendable {
    var machine: PodStateMachine
    let node: String
    let podIP: String
    let hostIP: String
    /// The last kill request acted on (or already present when the pod was first seen).
    var killRequest: String?
    /// The hash of the status last sent, to skip rewriting it before the informer brings that write back.
    var lastReported: Int?
    var deleteSent = false
}

import Client
import Component
import Foundation
import Logging
import NIOConcurrencyHelpers

/// Upstream's node lifecycle controller: judges each node's health from its Lease and Ready heartbeat, marks a
/// silent node's conditions Unknown, keeps the condition taints (NoSchedule) in step with the conditions, and
/// taints not-ready and unreachable nodes NoExecute at a per-zone rate that slows or stops when a zone, or the
/// whole cluster, looks disrupted. Pods on a node that stops being Ready are marked not Ready.
public final class NodeLifecycleController: Controller {
    public static let descriptor = ControllerDescriptor(
        name: "node-lifecycle-controller", aliases: ["nodelifecycle"], serviceAccount: "node-controller",
        flags: [
            FlagDefinition("node-monitor-period", default: "5s"),
            // Upstream raised the default from 40s to 50s in v1.32.
            FlagDefinition("node-monitor-grace-period", default: "50s"),
            FlagDefinition("node-startup-grace-period", default: "1m0s"),
            FlagDefinition("node-eviction-rate", default: "0.1"),
            FlagDefinition("secondary-node-eviction-rate", default: "0.01"),
            FlagDefinition("large-cluster-size-threshold", default: "50"),
            FlagDefinition("unhealthy-zone-threshold", default: "0.55"),
            FlagDefinition(
                "pod-eviction-timeout", default: "5m0s",
                support: .noEffect("removed upstream in v1.27: tolerationSeconds on the NoExecute taints decides")),
        ]
    ) { context in try NodeLifecycleController(context: context) }

    /// Upstream's `NodeEvictionPeriod`: how often the NoExecute tainting queues are processed.
    static let taintingPeriod: Duration = .milliseconds(100)
    /// Upstream's `UpdateWorkerSize` and `podUpdateWorkerSize`.
    static let nodeUpdateWorkers = 8
    static let podUpdateWorkers = 4

    struct State: Sendable {
        var health: [String: NodeHealth] = [:]
        /// The nodes seen so far, by name, with their uid (for the RemovingNode event).
        var known: [String: String] = [:]
        var zones: ZoneDisruption
        /// Per zone, the nodes waiting for a NoExecute taint (upstream's `zoneNoExecuteTainter`).
        var tainters: [String: RateLimitedTimedQueue] = [:]
        /// Nodes whose pods could not all be marked not ready; retried on the next pass.
        var nodesToRetry: Set<String> = []
    }

    let monitorPeriod: Duration
    let healthCheck: NodeHealthCheck
    let policy: EvictionPolicy
    let client: RESTClient
    let time: any TimeSource
    let logger: Logger
    let writes: NodeWrites
    let nodes: Lister<Node>
    let leases: Lister<Lease>
    let pods: Lister<Pod>
    let nodeUpdates: RateLimitingQueue<ObjectKey>
    let podUpdates: RateLimitingQueue<ObjectKey>
    let state: NIOLockedValueBox<State>

    public init(context: ControllerContext) throws {
        monitorPeriod = try context.duration("node-monitor-period")
        healthCheck = NodeHealthCheck(
            monitorGracePeriod: try context.duration("node-monitor-grace-period"),
            startupGracePeriod: try context.duration("node-startup-grace-period"))
        policy = EvictionPolicy(
            evictionQPS: try Self.double(context, "node-eviction-rate"),
            secondaryEvictionQPS: try Self.double(context, "secondary-node-eviction-rate"),
            largeClusterThreshold: try context.flags.int("large-cluster-size-threshold"),
            unhealthyZoneThreshold: try Self.double(context, "unhealthy-zone-threshold"))
        client = context.client
        time = context.time
        logger = context.logger
        writes = NodeWrites(client: context.client, recorder: context.recorder, time: context.time)
        state = NIOLockedValueBox(State(zones: ZoneDisruption(policy: policy)))
        nodeUpdates = RateLimitingQueue(name: "node_lifecycle_controller", time: context.time)
        podUpdates = RateLimitingQueue(name: "node_lifecycle_controller_pods", time: context.time)

        let nodeInformer = context.informers.informer(for: Node.self)
        let podInformer = context.informers.informer(for: Pod.self)
        Pod.addNodeNameIndex(to: podInformer)
        nodes = nodeInformer.lister
        pods = podInformer.lister
        leases = context.informers.lister(for: Lease.self)

        let nodeUpdates = self.nodeUpdates
        let podUpdates = self.podUpdates
        let state = self.state
        _ = nodeInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { node, _ in nodeUpdates.add(node.key) },
                onUpdate: { _, node in nodeUpdates.add(node.key) },
                onDelete: { event in _ = state.withLockedValue { $0.nodesToRetry.remove(event.key.name) } }))
        _ = podInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { pod, _ in if pod.spec.nodeName?.isEmpty == false { podUpdates.add(pod.key) } },
                onUpdate: { old, pod in
                    // Only a pod newly bound (or moved) may land on a node already known to be not ready.
                    if let node = pod.spec.nodeName, !node.isEmpty, node != old.spec.nodeName {
                        podUpdates.add(pod.key)
                    }
                }))
    }

    public func run(workers: Int) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await self.nodeUpdates.runWorkers(Self.nodeUpdateWorkers, logger: self.logger) { key in
                    try await self.syncConditionTaints(key.name)
                }
            }
            group.addTask {
                await self.podUpdates.runWorkers(Self.podUpdateWorkers, logger: self.logger) { key in
                    try await self.syncPod(key)
                }
            }
            group.addTask {
                repeat {
                    await self.processTaintQueues()
                } while (try? await self.time.sleep(for: Self.taintingPeriod)) != nil
            }
            group.addTask {
                repeat {
                    await self.monitorNodeHealth()
                } while (try? await self.time.sleep(for: self.monitorPeriod)) != nil
            }
        }
    }

    /// Pods bound to `nodeName`, from the shared informer's node-name index.
    func pods(on nodeName: String) -> [Pod] {
        (try? pods.byIndex(Pod.nodeNameIndex, nodeName)) ?? []
    }

    /// Marks a newly bound pod not ready when its node is known not to be (upstream's `processPod`).
    func syncPod(_ key: ObjectKey) async throws {
        guard let pod = pods.get(namespace: key.namespace, name: key.name), let nodeName = pod.spec.nodeName,
            let health = state.withLockedValue({ $0.health[nodeName] }), nodes.get(name: nodeName) != nil,
            let ready = health.ready, ready.status != "True"
        else { return }
        try await writes.markPodsNotReady([pod], nodeName: nodeName)
    }

    private static func double(_ context: ControllerContext, _ flag: String) throws -> Double {
        let text = context.flags.string(flag)
        guard let value = Double(text) else {
            throw FlagError(
                message:
                    "invalid argument \"\(text)\" for \"--\(flag)\" flag: strconv.ParseFloat: parsing \"\(text)\": invalid syntax"
            )
        }
        return value
    }
}

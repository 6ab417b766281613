import Client
import Component
import Logging
import NIOConcurrencyHelpers

/// Upstream's taint eviction controller (the former taint manager): deletes the pods on nodes with NoExecute
/// taints they do not tolerate, at once, or after the shortest `tolerationSeconds` of the tolerations they
/// rely on; each deleted pod first gets the `DisruptionTarget` condition.
public final class TaintEvictionController: Controller {
    // Upstream runs it as node-controller: "taint-manager uses existing cluster role from node-controller".
    public static let descriptor = ControllerDescriptor(
        name: "taint-eviction-controller", serviceAccount: "node-controller"
    ) { context in TaintEvictionController(context: context) }

    /// Upstream's `UpdateWorkerSize`.
    static let workers = 8

    /// A change to look at: a node's NoExecute taints, or a pod bound to `node`.
    enum Item: Hashable, Sendable {
        case node(String)
        case pod(ObjectKey, node: String)
    }

    let client: RESTClient
    let recorder: EventRecorder
    let time: any TimeSource
    let logger: Logger
    let nodes: Lister<Node>
    let pods: Lister<Pod>
    let queue: RateLimitingQueue<Item>
    let deletions: TimedDeletions
    /// The NoExecute taints of every tainted node, as last seen (upstream's `taintedNodes`).
    let taintedNodes = NIOLockedValueBox<[String: [Taint]]>([:])

    public init(context: ControllerContext) {
        client = context.client
        recorder = context.recorder
        time = context.time
        logger = context.logger
        queue = RateLimitingQueue(name: "taint_eviction_controller", time: context.time)
        deletions = TimedDeletions(time: context.time)
        let nodeInformer = context.informers.informer(for: Node.self)
        let podInformer = context.informers.informer(for: Pod.self)
        Pod.addNodeNameIndex(to: podInformer)
        nodes = nodeInformer.lister
        pods = podInformer.lister

        let queue = self.queue
        _ = nodeInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { node, _ in if !Self.noExecuteTaints(node).isEmpty { queue.add(.node(node.key.name)) } },
                onUpdate: { old, node in
                    if Self.noExecuteTaints(old) != Self.noExecuteTaints(node) { queue.add(.node(node.key.name)) }
                },
                onDelete: { event in queue.add(.node(event.key.name)) }))
        _ = podInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { pod, _ in
                    if let node = pod.spec.nodeName, !node.isEmpty { queue.add(.pod(pod.key, node: node)) }
                },
                onUpdate: { old, pod in
                    guard old.spec.nodeName != pod.spec.nodeName || old.spec.tolerations != pod.spec.tolerations,
                        let node = pod.spec.nodeName, !node.isEmpty
                    else { return }
                    queue.add(.pod(pod.key, node: node))
                },
                onDelete: { event in queue.add(.pod(event.key, node: event.object.spec.nodeName ?? "")) }))
    }

    public func run(workers: Int) async {
        await queue.runWorkers(Self.workers, logger: logger) { item in
            switch item {
            case .node(let name): await self.syncNode(name)
            case .pod(let key, let node): await self.syncPod(key, node: node)
            }
        }
        deletions.cancelAll()
    }

    /// A node's NoExecute taints.
    static func noExecuteTaints(_ node: Node) -> [Taint] {
        node.spec.taints.filter { $0.effect == TaintEffect.noExecute }
    }
}

import APIMachinery
import Client
import Logging
import NIOConcurrencyHelpers

/// Upstream's TTL controller: annotates every node with `node.alpha.kubernetes.io/ttl`, how long kubelets may
/// cache the secrets and config maps they read, from the cluster's size.
public final class TTLController: Controller {
    public static let descriptor = ControllerDescriptor(
        name: "ttl-controller", aliases: ["ttl"], serviceAccount: "ttl-controller"
    ) { context in TTLController(context: context) }

    static let annotation = "node.alpha.kubernetes.io/ttl"
    /// Upstream runs five workers.
    static let workers = 5

    /// The state that sets the TTL: the node count and the boundary step it falls in.
    struct Sizing: Sendable, Equatable {
        /// One size band: a cluster moves up past `maxSize` and back down below `minSize`, so a size near a
        /// boundary does not flap.
        struct Boundary: Sendable, Equatable {
            var minSize: Int
            var maxSize: Int
            var ttlSeconds: Int
        }

        /// Upstream's `ttlBoundaries`.
        static let boundaries = [
            Boundary(minSize: 0, maxSize: 100, ttlSeconds: 0),
            Boundary(minSize: 90, maxSize: 500, ttlSeconds: 15),
            Boundary(minSize: 450, maxSize: 1000, ttlSeconds: 30),
            Boundary(minSize: 900, maxSize: 2000, ttlSeconds: 60),
            Boundary(minSize: 1800, maxSize: Int(Int32.max), ttlSeconds: 300),
        ]

        private(set) var nodeCount = 0
        private(set) var step = 0

        var ttlSeconds: Int { Self.boundaries[step].ttlSeconds }

        /// A node was added; whether the TTL changed.
        mutating func added() -> Bool {
            nodeCount += 1
            guard step + 1 < Self.boundaries.count, nodeCount > Self.boundaries[step].maxSize else { return false }
            step += 1
            return true
        }

        /// A node was deleted; whether the TTL changed.
        mutating func deleted() -> Bool {
            nodeCount -= 1
            guard step > 0, nodeCount < Self.boundaries[step].minSize else { return false }
            step -= 1
            return true
        }
    }

    let client: RESTClient
    let logger: Logger
    let nodes: Lister<Node>
    let queue: RateLimitingQueue<ObjectKey>
    let sizing = NIOLockedValueBox(Sizing())

    public init(context: ControllerContext) {
        client = context.client
        logger = context.logger
        queue = RateLimitingQueue(name: "ttlcontroller", time: context.time)
        let informer = context.informers.informer(for: Node.self)
        nodes = informer.lister
        let queue = self.queue
        let sizing = self.sizing
        let nodes = self.nodes
        // When the TTL changes every node needs the new value, not only the one whose event moved it.
        let enqueueAll: @Sendable () -> Void = { for node in nodes.list() { queue.add(node.key) } }
        _ = informer.addEventHandler(
            ResourceEventHandler(
                onAdd: { node, _ in
                    if sizing.withLockedValue({ $0.added() }) { enqueueAll() }
                    queue.add(node.key)
                },
                onUpdate: { _, node in
                    if Self.ttl(of: node) != sizing.withLockedValue({ $0.ttlSeconds }) { queue.add(node.key) }
                },
                onDelete: { _ in if sizing.withLockedValue({ $0.deleted() }) { enqueueAll() } }))
    }

    public func run(workers: Int) async {
        await queue.runWorkers(Self.workers, logger: logger) { key in try await self.sync(key.name) }
    }

    /// Sets node `name`'s annotation to the desired TTL unless it has it (upstream's `updateNodeIfNeeded`).
    func sync(_ name: String) async throws {
        guard let node = nodes.get(name: name) else { return }
        let desired = sizing.withLockedValue { $0.ttlSeconds }
        guard Self.ttl(of: node) != desired else { return }
        do {
            let patch: JSON = ["metadata": ["annotations": [Self.annotation: .string(String(desired))]]]
            _ = try await ResourceClient<Node>(client: client).patch(name, patch)
        } catch let error as StatusError where error.code == 404 {
            return
        }
    }

    /// The node's TTL annotation as a number, if it has a valid one.
    static func ttl(of node: Node) -> Int? { node.metadata.annotations[annotation].flatMap { Int($0) } }
}

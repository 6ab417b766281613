import APIMachinery
import Client
import Component
import Logging
import NIOConcurrencyHelpers

/// Upstream's node IPAM controller with the range allocator: with `--allocate-node-cidrs`, gives each node
/// `spec.podCIDR`/`podCIDRs` from `--cluster-cidr` (one per family), never the service range, and frees a
/// node's ranges when it is deleted.
public final class NodeIPAMController: Controller {
    public static let descriptor = ControllerDescriptor(
        name: "node-ipam-controller", aliases: ["nodeipam"], serviceAccount: "node-controller",
        flags: [
            FlagDefinition("allocate-node-cidrs", bool: true, default: "false"),
            FlagDefinition("cluster-cidr"),
            // 0: upstream's per-family default (24 for IPv4, 64 for IPv6).
            FlagDefinition("node-cidr-mask-size", default: "0"),
            FlagDefinition("node-cidr-mask-size-ipv4", default: "0"),
            FlagDefinition("node-cidr-mask-size-ipv6", default: "0"),
            FlagDefinition("service-cluster-ip-range"),
            FlagDefinition("secondary-service-cluster-ip-range"),
            FlagDefinition("cidr-allocator-type", default: "RangeAllocator"),
        ]
    ) { context in
        guard context.flags.bool("allocate-node-cidrs") else { return nil }
        return try NodeIPAMController(context: context)
    }

    /// Upstream's `cidrUpdateWorkers`.
    static let workers = 30

    let client: RESTClient
    let recorder: EventRecorder
    let logger: Logger
    let nodes: Lister<Node>
    let queue: RateLimitingQueue<ObjectKey>
    let sets: NIOLockedValueBox<[CIDRSet]>
    /// Nodes (name to uid) given ranges that the cache has not shown yet: a sync from the stale cache must not
    /// allocate for them again (the API would refuse the second write; the range would be held meanwhile).
    let assigned = NIOLockedValueBox<[String: String]>([:])

    public init(context: ControllerContext) throws {
        let flags = context.flags
        let allocator = flags.string("cidr-allocator-type")
        guard allocator == "RangeAllocator" else {
            throw FlagError(message: "invalid CIDR allocator type: \(allocator) (only RangeAllocator is supported)")
        }
        let configuration = try NodeCIDRConfiguration(
            clusterCIDR: flags.string("cluster-cidr"), maskSize: try flags.int("node-cidr-mask-size"),
            maskSizeIPv4: try flags.int("node-cidr-mask-size-ipv4"),
            maskSizeIPv6: try flags.int("node-cidr-mask-size-ipv6"),
            serviceRanges: [
                flags.string("service-cluster-ip-range"), flags.string("secondary-service-cluster-ip-range"),
            ]
        )
        do {
            sets = NIOLockedValueBox(try configuration.makeSets())
        } catch {
            throw FlagError(message: error.message)
        }
        client = context.client
        recorder = context.recorder
        logger = context.logger
        queue = RateLimitingQueue(name: "node_ipam_controller", time: context.time)
        let informer = context.informers.informer(for: Node.self)
        nodes = informer.lister
        let queue = self.queue
        let sets = self.sets
        let assigned = self.assigned
        let logger = context.logger
        _ = informer.addEventHandler(
            ResourceEventHandler(
                onAdd: { node, _ in queue.add(node.key) },
                onUpdate: { _, node in if node.spec.podCIDRs.isEmpty { queue.add(node.key) } },
                onDelete: { event in
                    _ = assigned.withLockedValue { $0.removeValue(forKey: event.key.name) }
                    Self.release(event.object, from: sets, logger: logger)
                }))
    }

    public func run(workers: Int) async {
        // Every range nodes already hold is taken before anything is handed out.
        for node in nodes.list() where !node.spec.podCIDRs.isEmpty { occupy(node) }
        await queue.runWorkers(Self.workers, logger: logger) { key in try await self.sync(key.name) }
    }

    /// Gives node `name` its ranges, or records the ones it has (upstream's `AllocateOrOccupyCIDR`).
    func sync(_ name: String) async throws {
        guard let node = nodes.get(name: name) else { return }
        guard node.spec.podCIDRs.isEmpty else {
            _ = assigned.withLockedValue { $0.removeValue(forKey: name) }
            occupy(node)
            return
        }
        guard assigned.withLockedValue({ $0[name] }) != node.metadata.uid else { return }
        let allocated: [IPNetwork]
        do {
            allocated = try sets.withLockedValue { sets throws(CIDRSetError) in
                var taken: [IPNetwork] = []
                for index in sets.indices {
                    do throws(CIDRSetError) {
                        taken.append(try sets[index].allocateNext())
                    } catch {
                        for (set, cidr) in zip(sets.indices, taken) { try? sets[set].release(cidr) }
                        throw CIDRSetError(
                            message: "failed to allocate cidr from cluster cidr at idx:\(index): \(error.message)")
                    }
                }
                return taken
            }
        } catch {
            recorder.eventf(
                regarding: ObjectReference(to: node), type: .normal, reason: "CIDRNotAvailable", action: "Allocate",
                note: "Node \(name) status is now: CIDRNotAvailable")
            throw error
        }
        try await assign(allocated, to: node)
    }

    /// Writes `cidrs` to the node unless it got ranges meanwhile (then ours go back), as upstream's
    /// `updateCIDRsAllocation`.
    private func assign(_ cidrs: [IPNetwork], to node: Node) async throws {
        let texts = cidrs.map(\.description)
        let nodes = ResourceClient<Node>(client: client)
        do {
            let current = try await nodes.get(node.key.name)
            if current.spec.podCIDRs == texts { return }
            guard current.spec.podCIDRs.isEmpty else {
                logger.error(
                    "Node \(node.key.name) already has a CIDR allocated \(current.spec.podCIDRs). Releasing the new one."
                )
                releaseAll(cidrs)
                assigned.withLockedValue { $0[node.key.name] = current.metadata.uid ?? "" }
                return
            }
            let patch: JSON = [
                "metadata": ["uid": .string(current.metadata.uid ?? "")],
                "spec": ["podCIDR": .string(texts[0]), "podCIDRs": .array(texts.map { .string($0) })],
            ]
            _ = try await nodes.patch(node.key.name, patch)
            assigned.withLockedValue { $0[node.key.name] = current.metadata.uid ?? "" }
            logger.info("Set node \(node.key.name) PodCIDR to \(texts)")
        } catch {
            recorder.eventf(
                regarding: ObjectReference(to: node), type: .normal, reason: "CIDRAssignmentFailed", action: "Allocate",
                note: "Node \(node.key.name) status is now: CIDRAssignmentFailed")
            releaseAll(cidrs)
            throw error
        }
    }

    private func occupy(_ node: Node) {
        sets.withLockedValue { sets in
            for text in node.spec.podCIDRs {
                guard let cidr = IPNetwork(text) else { continue }
                for index in sets.indices where sets[index].cluster.isIPv6 == cidr.isIPv6 {
                    do {
                        try sets[index].occupy(cidr)
                    } catch {
                        logger.error("failed to mark cidr \(text) of node \(node.key.name) as occupied: \(error)")
                    }
                }
            }
        }
    }

    private func releaseAll(_ cidrs: [IPNetwork]) {
        sets.withLockedValue { sets in
            for cidr in cidrs {
                for index in sets.indices where sets[index].cluster.isIPv6 == cidr.isIPv6 {
                    try? sets[index].release(cidr)
                }
            }
        }
    }

    /// Frees a deleted node's ranges (upstream's `ReleaseCIDR`).
    static func release(_ node: Node, from sets: NIOLockedValueBox<[CIDRSet]>, logger: Logger) {
        sets.withLockedValue { sets in
            for text in node.spec.podCIDRs {
                guard let cidr = IPNetwork(text) else { continue }
                for index in sets.indices where sets[index].cluster.isIPv6 == cidr.isIPv6 {
                    do {
                        try sets[index].release(cidr)
                    } catch {
                        logger.error("failed to release cidr \(text) of node \(node.key.name): \(error)")
                    }
                }
            }
        }
    }
}

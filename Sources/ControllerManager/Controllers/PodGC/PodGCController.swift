import APIMachinery
public import Client
import Component
import Foundation
import Logging
import NIOConcurrencyHelpers

/// Upstream's `pod-garbage-collector-controller`: every 20 seconds it force-deletes terminating pods on
/// out-of-service nodes, terminated pods beyond `--terminated-pod-gc-threshold` (oldest first), pods bound
/// to nodes that stay gone for 40 seconds (marked Failed with a `DisruptionTarget` condition first), and
/// terminating pods never scheduled.
public final class PodGCController: Controller {
    public static let descriptor = ControllerDescriptor(
        name: "pod-garbage-collector-controller", aliases: ["podgc"], serviceAccount: "pod-garbage-collector",
        flags: [FlagDefinition("terminated-pod-gc-threshold", default: "12500")]
    ) { context in try PodGCController(context: context) }

    /// Upstream's `gcCheckPeriod`.
    public static let period: Duration = .seconds(20)
    /// How many deletions run at once, as upstream's worker count.
    static let parallelDeletions = 10
    /// Upstream's `quarantineTime`: how long a node must be missing before its pods are collected.
    public static let quarantine: Duration = .seconds(40)

    let client: RESTClient
    let time: any TimeSource
    let logger: Logger
    let pods: Lister<Pod>
    let nodes: Lister<Node>
    /// Terminated pods kept before the oldest are deleted; 0 keeps them all.
    let threshold: Int
    /// Nodes that pods name but the cache lacks, with when that was first seen.
    let missingNodes = NIOLockedValueBox<[String: ContinuousClock.Instant]>([:])

    public init(context: ControllerContext) throws {
        client = context.client
        time = context.time
        logger = context.logger
        pods = context.informers.lister(for: Pod.self)
        nodes = context.informers.lister(for: Node.self)
        threshold = try context.flags.int("terminated-pod-gc-threshold")
    }

    public func run(workers: Int) async {
        while !Task.isCancelled {
            await collect()
            do {
                try await time.sleep(for: Self.period)
            } catch {
                return
            }
        }
    }

    /// One pass of every collection, in upstream's order; failures are logged and retried next pass.
    func collect() async {
        let all = pods.list()
        await collectTerminatingOnOutOfServiceNodes(all)
        if threshold > 0 { await collectTerminated(all) }
        await collectOrphaned(all)
        await forceDelete(all.filter { $0.metadata.isDeleting && ($0.spec.nodeName ?? "").isEmpty }, condition: nil)
    }

    /// Terminated pods in the order they are collected: evicted first, then oldest, as upstream's
    /// `byEvictionAndCreationTimestamp`.
    public static func collectionOrder(_ pods: [Pod]) -> [Pod] {
        pods.sorted { lhs, rhs in
            let (leftEvicted, rightEvicted) = (lhs.status.reason == "Evicted", rhs.status.reason == "Evicted")
            if leftEvicted != rightEvicted { return leftEvicted }
            let left = lhs.metadata.creationTimestamp.flatMap(Timestamp.parse) ?? 0
            let right = rhs.metadata.creationTimestamp.flatMap(Timestamp.parse) ?? 0
            if left != right { return left < right }
            return lhs.key < rhs.key
        }
    }

    public static func isTerminated(_ pod: Pod) -> Bool {
        pod.status.phase == "Succeeded" || pod.status.phase == "Failed"
    }

    private func collectTerminated(_ all: [Pod]) async {
        let terminated = all.filter { Self.isTerminated($0) && !$0.metadata.isDeleting }
        let excess = terminated.count - threshold
        guard excess > 0 else { return }
        logger.info("garbage collecting \(excess) pods")
        await forceDelete(Array(Self.collectionOrder(terminated).prefix(excess)), condition: nil)
    }

    private func collectTerminatingOnOutOfServiceNodes(_ all: [Pod]) async {
        let outOfService = Set(
            nodes.list().filter { node in
                let ready = node.status.conditions.contains { $0.type == "Ready" && $0.status == "True" }
                let tainted = node.spec.taints.contains { $0.key == "node.kubernetes.io/out-of-service" }
                return !ready && tainted
            }.compactMap(\.metadata.name))
        guard !outOfService.isEmpty else { return }
        await forceDelete(
            all.filter { $0.metadata.isDeleting && outOfService.contains($0.spec.nodeName ?? "") }, condition: nil)
    }

    /// Pods on nodes missing from the cache for the quarantine, confirmed gone by the server.
    private func collectOrphaned(_ all: [Pod]) async {
        let known = Set(nodes.list().compactMap(\.metadata.name))
        let now = time.now
        let named = Set(all.compactMap(\.spec.nodeName).filter { !$0.isEmpty && !known.contains($0) })
        let due: [String] = missingNodes.withLockedValue { missing in
            missing = missing.filter { named.contains($0.key) }
            for node in named where missing[node] == nil { missing[node] = now }
            return missing.filter { $0.value.duration(to: now) >= Self.quarantine }.map(\.key)
        }
        var deleted = Set<String>()
        for node in due {
            do {
                _ = try await ResourceClient<Node>(client: client).get(node)
                missingNodes.withLockedValue { _ = $0.removeValue(forKey: node) }
            } catch let error as StatusError where error.code == 404 {
                deleted.insert(node)
            } catch {
                logger.info("checking whether node \(node) exists: \(error)")
            }
        }
        guard !deleted.isEmpty else { return }
        let condition = PodCondition(
            type: "DisruptionTarget", status: "True",
            lastTransitionTime: Timestamp.format(epochSeconds: Int64(time.wallNow.timeIntervalSince1970)),
            message: "PodGC: node no longer exists", reason: "DeletionByPodGC")
        let orphans = all.filter { deleted.contains($0.spec.nodeName ?? "") }
        for pod in orphans {
            logger.info("Found orphaned Pod \(pod.key) assigned to the Node \(pod.spec.nodeName ?? ""). Deleting.")
        }
        await forceDelete(orphans, condition: condition)
    }

    /// Force-deletes `pods`, at most upstream's 10 at a time.
    private func forceDelete(_ pods: [Pod], condition: PodCondition?) async {
        await withTaskGroup(of: Void.self) { group in
            for (position, pod) in pods.enumerated() {
                if position >= Self.parallelDeletions { await group.next() }
                group.addTask { await self.forceDelete(pod, condition: condition) }
            }
        }
    }

    /// Marks a pod not yet terminated Failed (with `condition`), then deletes it with no grace period, as
    /// upstream's `markFailedAndDeletePodWithCondition`: no kubelet is left to finish it.
    private func forceDelete(_ pod: Pod, condition: PodCondition?) async {
        let podClient = ResourceClient<Pod>(client: client, namespace: pod.metadata.namespace)
        let name = pod.metadata.name ?? ""
        logger.info("PodGC is force deleting Pod \(pod.key)")
        do {
            if !Self.isTerminated(pod) {
                var status: JSON = ["phase": "Failed"]
                if let condition { status["conditions"] = [condition.toJSON()] }
                _ = try await podClient.patch(
                    name, ["status": status], type: .strategicMerge, subresource: "status", fieldManager: "PodGC")
            }
            try await podClient.delete(
                name,
                options: DeleteOptions(gracePeriodSeconds: 0, preconditions: Preconditions(uid: pod.metadata.uid)))
        } catch let error as StatusError where error.code == 404 || error.code == 409 {
            return
        } catch {
            logger.info("failed to delete pod \(pod.key): \(error)")
        }
    }
}

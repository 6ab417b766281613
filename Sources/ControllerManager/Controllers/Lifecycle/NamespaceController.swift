import Client
import Component
import Logging

/// Upstream's namespace controller: a namespace being deleted is emptied of everything namespaced that
/// discovery lists, its deletion conditions kept current, and its `kubernetes` finalizer removed once nothing
/// is left, which lets the API server delete it.
public final class NamespaceController: Controller {
    public static let descriptor = ControllerDescriptor(
        name: "namespace-controller", aliases: ["namespace"], serviceAccount: "namespace-controller",
        flags: [
            FlagDefinition("concurrent-namespace-syncs", default: "10"),
            FlagDefinition("namespace-sync-period", default: "5m0s"),
        ],
        workersFlag: "concurrent-namespace-syncs"
    ) { context in
        try NamespaceController(context: context, syncPeriod: context.duration("namespace-sync-period"))
    }

    /// Upstream delays each namespace's processing so HA API servers observe the deletion, and last-minute
    /// creations inside the namespace, first.
    static let defaultDeletionGracePeriod: Duration = .seconds(5)

    let namespaces: Lister<Namespace>
    let queue: RateLimitingQueue<ObjectKey>
    let deleter: NamespacedResourcesDeleter
    let deletionGracePeriod: Duration
    let syncPeriod: Duration
    let time: any TimeSource
    let logger: Logger

    init(context: ControllerContext, syncPeriod: Duration, deletionGracePeriod: Duration = defaultDeletionGracePeriod) {
        let informer = context.informers.informer(for: Namespace.self)
        namespaces = informer.lister
        // Retries at least every minute, never slower, and 10 per second overall (upstream's limiter).
        queue = RateLimitingQueue(
            name: "namespace",
            rateLimiter: MaxOfRateLimiter([
                ItemExponentialFailureRateLimiter(base: .milliseconds(5), maximum: .seconds(60)),
                BucketRateLimiter(qps: 10, burst: 100, time: context.time),
            ]), time: context.time)
        deleter = NamespacedResourcesDeleter(client: context.client, time: context.time, logger: context.logger)
        self.deletionGracePeriod = deletionGracePeriod
        self.syncPeriod = syncPeriod
        time = context.time
        logger = context.logger
        let queue = self.queue
        informer.addEventHandler(
            ResourceEventHandler(
                onAdd: { namespace, _ in Self.enqueue(namespace, on: queue, after: deletionGracePeriod) },
                onUpdate: { _, namespace in Self.enqueue(namespace, on: queue, after: deletionGracePeriod) }))
    }

    /// Only namespaces being deleted have work.
    private static func enqueue(_ namespace: Namespace, on queue: RateLimitingQueue<ObjectKey>, after delay: Duration) {
        guard namespace.metadata.deletionTimestamp != nil else { return }
        queue.add(namespace.key, after: delay)
    }

    public func run(workers: Int) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.resyncPeriodically() }
            group.addTask {
                await self.queue.runWorkers(workers, logger: self.logger) { key in try await self.sync(key) }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Upstream's informer resync: every terminating namespace is looked at again each period.
    private func resyncPeriodically() async {
        while (try? await time.sleep(for: syncPeriod)) != nil {
            for namespace in namespaces.list() where namespace.metadata.deletionTimestamp != nil {
                queue.add(namespace.key)
            }
        }
    }

    /// One pass over the namespace `key` names; content that remains brings it back after half its estimate.
    func sync(_ key: ObjectKey) async throws {
        guard namespaces.get(name: key.name) != nil else { return }
        let outcome = try await deleter.delete(namespace: key.name)
        if case .contentRemaining(let estimate) = outcome {
            let wait = estimate / 2 + 1
            logger.info("Content remaining in namespace \(key.name), waiting \(wait)s")
            queue.add(key, after: .seconds(wait))
        }
    }
}

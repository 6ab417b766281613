import APIMachinery
public import Client
import Component
public import Foundation
import Logging

/// Upstream's `ttl-after-finished-controller`: deletes a finished Job `ttlSecondsAfterFinished` after its
/// `Complete` or `Failed` condition, with foreground propagation so its pods go first.
public final class TTLAfterFinishedController: Controller {
    public static let descriptor = ControllerDescriptor(
        name: "ttl-after-finished-controller", aliases: ["ttl-after-finished"],
        serviceAccount: "ttl-after-finished-controller",
        flags: [FlagDefinition("concurrent-ttl-after-finished-syncs", default: "5")],
        workersFlag: "concurrent-ttl-after-finished-syncs"
    ) { context in try TTLAfterFinishedController(context: context) }

    let client: RESTClient
    let time: any TimeSource
    let logger: Logger
    let jobs: Lister<Job>
    let queue: RateLimitingQueue<ObjectKey>

    public init(context: ControllerContext) throws {
        client = context.client
        time = context.time
        logger = context.logger
        let informer = context.informers.informer(for: Job.self)
        jobs = informer.lister
        queue = RateLimitingQueue(name: "ttl_jobs_to_delete", time: context.time)
        _ = informer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [weak self] job, _ in self?.enqueueIfNeeded(job) },
                onUpdate: { [weak self] _, job in self?.enqueueIfNeeded(job) }))
    }

    public func run(workers: Int) async {
        await queue.runWorkers(workers, logger: logger) { [self] key in try await sync(key) }
    }

    private func enqueueIfNeeded(_ job: Job) {
        if Self.needsCleanUp(job) { queue.add(job.key) }
    }

    /// Whether `job` has a TTL, is finished and is not yet being deleted.
    static func needsCleanUp(_ job: Job) -> Bool {
        job.spec.ttlSecondsAfterFinished != nil && JobPods.finishedCondition(job) != nil && !job.metadata.isDeleting
    }

    /// When `job` expires: its finish time plus its TTL; nil when it has no TTL or has not finished.
    public static func expiry(of job: Job) -> Date? {
        guard let ttl = job.spec.ttlSecondsAfterFinished,
            let finished = JobPods.finishedCondition(job)?.lastTransitionTime.flatMap(Timestamp.parse)
        else { return nil }
        return Date(timeIntervalSince1970: Double(finished + Int64(ttl)))
    }

    /// Deletes Job `key` if it expired, else requeues it for when it will; the expiry is checked again on
    /// a fresh read, so a TTL raised meanwhile is honoured.
    func sync(_ key: ObjectKey) async throws {
        guard let cached = jobs.get(namespace: key.namespace, name: key.name), Self.needsCleanUp(cached),
            let expiry = Self.expiry(of: cached)
        else { return }
        if let wait = remaining(until: expiry) {
            queue.add(key, after: wait)
            return
        }
        let jobClient = ResourceClient<Job>(client: client, namespace: key.namespace)
        let fresh: Job
        do {
            fresh = try await jobClient.get(key.name)
        } catch let error as StatusError where error.code == 404 {
            return
        }
        guard Self.needsCleanUp(fresh), let freshExpiry = Self.expiry(of: fresh) else { return }
        if let wait = remaining(until: freshExpiry) {
            queue.add(key, after: wait)
            return
        }
        logger.info("Cleaning up Job \(key)")
        do {
            try await jobClient.delete(
                key.name,
                options: DeleteOptions(
                    preconditions: Preconditions(
                        resourceVersion: fresh.metadata.resourceVersion, uid: fresh.metadata.uid),
                    propagationPolicy: "Foreground"))
        } catch let error as StatusError where error.code == 404 {
            return
        }
    }

    /// The wait until `expiry`, nil when it has passed.
    private func remaining(until expiry: Date) -> Duration? {
        let seconds = expiry.timeIntervalSince(time.wallNow)
        guard seconds > 0 else { return nil }
        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }
}

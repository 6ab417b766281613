import APIMachinery
import Client
import Component
import Logging
import NIOConcurrencyHelpers

/// Upstream's `job-controller`: runs a Job's pods to completion (completions, parallelism, Indexed mode),
/// replaces failed ones with backoff until `backoffLimit`, applies the pod failure policy and
/// `activeDeadlineSeconds`, suspends and resumes, and counts finished pods exactly once through the
/// `batch.kubernetes.io/job-tracking` finalizer and `status.uncountedTerminatedPods`.
public final class JobController: Controller {
    public static let descriptor = ControllerDescriptor(
        name: "job-controller", aliases: ["job"], serviceAccount: "job-controller",
        flags: [FlagDefinition("concurrent-job-syncs", default: "5")], workersFlag: "concurrent-job-syncs"
    ) { context in try JobController(context: context) }

    /// What the queue holds: a Job to sync, or a pod whose tracking finalizer may have to go because its
    /// Job is gone or disowned it.
    enum Key: Hashable, Sendable {
        case job(ObjectKey)
        case orphanPod(ObjectKey)
    }

    let client: RESTClient
    let recorder: EventRecorder
    let time: any TimeSource
    let logger: Logger
    let jobs: Lister<Job>
    let pods: Lister<Pod>
    let queue: RateLimitingQueue<Key>
    let podControl: PodControl
    /// Pod creations and deletions asked for and not yet seen, per Job.
    let expectations: ControllerExpectations
    /// UIDs of pods whose tracking finalizer this controller removed and whose update it has not yet seen,
    /// per Job: their cached copies still carry the finalizer and must not be counted again.
    let finalizerRemovals = NIOLockedValueBox<[ObjectKey: Set<String>]>([:])
    /// Each Job's pod failure backoff.
    let backoffs = NIOLockedValueBox<[ObjectKey: JobBackoff]>([:])

    public init(context: ControllerContext) throws {
        client = context.client
        recorder = context.recorder
        time = context.time
        logger = context.logger
        let jobInformer = context.informers.informer(for: Job.self)
        let podInformer = context.informers.informer(for: Pod.self)
        jobs = jobInformer.lister
        pods = podInformer.lister
        queue = RateLimitingQueue(name: "job", time: context.time)
        podControl = PodControl(client: context.client, recorder: context.recorder)
        expectations = ControllerExpectations(time: context.time)

        _ = jobInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [weak self] job, _ in self?.queue.add(.job(job.key)) },
                onUpdate: { [weak self] _, job in self?.queue.add(.job(job.key)) },
                onDelete: { [weak self] event in self?.jobDeleted(event.object) }))
        _ = podInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [weak self] pod, _ in self?.podAdded(pod) },
                onUpdate: { [weak self] old, new in self?.podUpdated(old: old, new: new) },
                onDelete: { [weak self] event in self?.podDeleted(event.object) }))
    }

    public func run(workers: Int) async {
        await queue.runWorkers(workers, logger: logger) { [self] key in
            switch key {
            case .job(let job): try await sync(job)
            case .orphanPod(let pod): try await releaseOrphan(pod)
            }
        }
    }

    // MARK: - Informer handlers

    /// The Job controlling `pod`, if it is in the cache with the referenced UID.
    func controllingJob(of pod: Pod) -> Job? {
        guard let reference = pod.metadata.controllerRef, reference.kind == "Job",
            let job = jobs.get(namespace: pod.metadata.namespace ?? "", name: reference.name ?? ""),
            job.metadata.uid == reference.uid
        else { return nil }
        return job
    }

    private func podAdded(_ pod: Pod) {
        if pod.metadata.isDeleting {
            // A pod restarted into the cache already terminating: its deletion is as good as seen.
            podDeleted(pod)
            return
        }
        guard let job = controllingJob(of: pod) else {
            enqueueIfOrphan(pod)
            return
        }
        expectations.creationObserved(job.key)
        queue.add(.job(job.key))
    }

    private func podUpdated(old: Pod, new: Pod) {
        if let job = controllingJob(of: new) {
            if new.metadata.isDeleting && !old.metadata.isDeleting {
                expectations.deletionObserved(job.key, uid: new.metadata.uid ?? "")
            }
            if !JobPods.hasTrackingFinalizer(new) { finalizerRemovalObserved(job.key, uid: new.metadata.uid) }
            queue.add(.job(job.key))
        } else {
            enqueueIfOrphan(new)
        }
        if let previous = controllingJob(of: old), previous.metadata.uid != controllingJob(of: new)?.metadata.uid {
            queue.add(.job(previous.key))
        }
    }

    private func podDeleted(_ pod: Pod) {
        guard let reference = pod.metadata.controllerRef, reference.kind == "Job" else { return }
        let key = ObjectKey(namespace: pod.metadata.namespace ?? "", name: reference.name ?? "")
        expectations.deletionObserved(key, uid: pod.metadata.uid ?? "")
        finalizerRemovalObserved(key, uid: pod.metadata.uid)
        queue.add(.job(key))
    }

    private func jobDeleted(_ job: Job) {
        expectations.delete(job.key)
        queue.add(.job(job.key))
        // Its pods lose the finalizer once the Job is gone from the cache.
        for pod in pods.list(namespace: job.metadata.namespace ?? "")
        where JobPods.hasTrackingFinalizer(pod) && pod.metadata.controllerRef?.uid == job.metadata.uid {
            queue.add(.orphanPod(pod.key))
        }
    }

    private func enqueueIfOrphan(_ pod: Pod) {
        guard JobPods.hasTrackingFinalizer(pod) else { return }
        queue.add(.orphanPod(pod.key))
    }

    private func finalizerRemovalObserved(_ job: ObjectKey, uid: String?) {
        guard let uid else { return }
        finalizerRemovals.withLockedValue { removals in
            removals[job]?.remove(uid)
            if removals[job]?.isEmpty == true { removals[job] = nil }
        }
    }

    // MARK: - Orphans

    /// Removes the tracking finalizer from a pod no live Job counts anymore (its Job is gone, or it was
    /// orphaned), as upstream's orphan pod worker does.
    func releaseOrphan(_ key: ObjectKey) async throws {
        guard let pod = pods.get(namespace: key.namespace, name: key.name), JobPods.hasTrackingFinalizer(pod) else {
            return
        }
        if let reference = pod.metadata.controllerRef, reference.kind == "Job" {
            if let job = jobs.get(namespace: key.namespace, name: reference.name ?? ""),
                job.metadata.uid == reference.uid
            {
                return
            }
            // The cache may lag a new Job: ask the server before touching the pod.
            if let live = try? await ResourceClient<Job>(client: client, namespace: key.namespace)
                .get(reference.name ?? ""), live.metadata.uid == reference.uid
            {
                return
            }
        }
        try await removeTrackingFinalizer(pod)
    }

    /// Removes this controller's finalizer from `pod`, keyed on its UID; a pod already gone counts as done.
    func removeTrackingFinalizer(_ pod: Pod) async throws {
        let patch: JSON = [
            "metadata": [
                "$deleteFromPrimitiveList/finalizers": [.string(JobPods.trackingFinalizer)],
                "uid": .string(pod.metadata.uid ?? ""),
            ]
        ]
        do {
            _ = try await ResourceClient<Pod>(client: client, namespace: pod.metadata.namespace)
                .patch(pod.metadata.name ?? "", patch, type: .strategicMerge)
        } catch let error as StatusError where error.code == 404 || error.code == 409 {
            // Gone, or replaced by a namesake (the UID precondition failed): nothing of ours is left on it.
            return
        }
    }
}

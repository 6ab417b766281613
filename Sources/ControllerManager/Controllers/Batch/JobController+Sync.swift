import APIMachinery
import Client
import Foundation

/// What one sync of a Job knows, as upstream's `syncJobCtx`.
struct JobSyncState {
    var job: Job
    var key: ObjectKey
    var pods: [Pod]
    var active: [Pod]
    var activeCount: Int32
    var ready: Int32
    var terminating: Int32
    var succeeded: Int32
    var failed: Int32
    var uncountedSucceeded: Set<String>
    var uncountedFailed: Set<String>
    /// Pods whose finalizer removal is not yet seen: already counted.
    var expectedRemovals: Set<String>
    /// The condition the Job reaches in this sync, if any (interim first, final after tracking).
    var finished: JobCondition?
    var previousSucceededIndexes = CompletionIndexes()
    var succeededIndexes = CompletionIndexes()
    var backoff: JobBackoff
}

extension JobController {
    /// Brings Job `key` one step closer to its spec, as upstream's `syncJob`.
    func sync(_ key: ObjectKey) async throws {
        guard let cached = jobs.get(namespace: key.namespace, name: key.name) else {
            expectations.delete(key)
            _ = backoffs.withLockedValue { $0.removeValue(forKey: key) }
            _ = finalizerRemovals.withLockedValue { $0.removeValue(forKey: key) }
            return
        }
        if let manager = cached.spec.managedBy, manager != "kubernetes.io/job-controller" { return }
        if JobPods.finishedCondition(cached) != nil {
            _ = backoffs.withLockedValue { $0.removeValue(forKey: key) }
            return
        }
        if let mode = cached.spec.completionMode, mode != "NonIndexed", mode != "Indexed" {
            recorder.eventf(
                regarding: ObjectReference(to: cached), type: .warning, reason: "UnknownCompletionMode",
                action: "Sync", note: "Skipped Job sync because completion mode is unknown")
            return
        }
        // Expectations are read before the pods, so a pod arriving in between only defers the next sync.
        let satisfied = expectations.satisfied(key)
        var state = try await makeState(cached, key: key)
        var job = state.job
        let now = time.wallNow
        if job.status.startTime == nil && job.spec.suspend != true {
            job.status.startTime = Self.timestamp(now)
        }
        state.job = job
        decideFailure(&state, now: now)
        if JobPods.isIndexed(job) {
            let completions = Int(job.spec.completions ?? 0)
            state.previousSucceededIndexes = CompletionIndexes(
                parsing: job.status.completedIndexes ?? "", completions: completions)
            var indexes = state.previousSucceededIndexes
            for pod in state.pods where pod.status.phase == "Succeeded" {
                if let index = JobPods.completionIndex(pod), index < completions { indexes.insert(index) }
            }
            state.succeededIndexes = indexes
            state.succeeded = Int32(indexes.total)
        }

        var manageError: (any Error)?
        var suspendChanged = false
        if state.finished != nil {
            let (deletedReady, deleted, error) = await deletePods(state.active, of: state.job, expect: false)
            if deleted != state.activeCount || !satisfied { state.finished = nil }
            state.activeCount -= deleted
            state.terminating += deleted
            state.ready -= deletedReady
            manageError = error
        } else {
            var managed = false
            if satisfied && !state.job.metadata.isDeleting {
                do {
                    try await manage(&state)
                } catch {
                    manageError = error
                }
                managed = true
            }
            let complete: Bool
            if let completions = state.job.spec.completions {
                complete = state.succeeded >= completions && state.activeCount == 0
            } else {
                complete = state.succeeded > 0 && state.activeCount == 0
            }
            if complete {
                state.finished = Self.condition(
                    "SuccessCriteriaMet", reason: "CompletionsReached",
                    message: "Reached expected number of succeeded pods", now: time.wallNow)
            } else if managed {
                suspendChanged = updateSuspension(&state.job)
            }
        }
        let ready = state.ready
        let terminating = state.terminating
        let needsUpdate =
            suspendChanged || state.activeCount != (state.job.status.active ?? 0)
            || state.job.status.ready != ready || state.job.status.terminating != terminating
        state.job.status.active = state.activeCount == 0 ? nil : state.activeCount
        state.job.status.ready = ready
        state.job.status.terminating = terminating
        try await trackStatus(&state, needsFlush: needsUpdate)
        if let manageError { throw manageError }
    }

    /// The Job's pods (claimed through its selector), counts and uncounted UIDs.
    private func makeState(_ job: Job, key: ObjectKey) async throws -> JobSyncState {
        let pods = try await claimPods(job)
        let active = pods.filter(JobPods.isActive)
        let uncounted = job.status.uncountedTerminatedPods ?? UncountedTerminatedPods()
        var state = JobSyncState(
            job: job, key: key, pods: pods, active: active, activeCount: Int32(active.count),
            ready: Int32(active.filter(JobPods.isReady).count),
            terminating: Int32(pods.filter(JobPods.isTerminating).count), succeeded: 0, failed: 0,
            uncountedSucceeded: Set(uncounted.succeeded), uncountedFailed: Set(uncounted.failed),
            expectedRemovals: finalizerRemovals.withLockedValue { $0[key] ?? [] }, finished: nil,
            backoff: backoffs.withLockedValue { $0[key] ?? JobBackoff() })
        let newSucceeded = newlyFinished(state) { $0.status.phase == "Succeeded" }
        let newFailed = newlyFinished(state) { JobPods.isFailed($0, job: job) }
        var countedFailures = newFailed.count
        if let policy = job.spec.podFailurePolicy {
            countedFailures = newFailed.filter { PodFailureVerdict(policy: policy, pod: $0).countsFailure }.count
        }
        state.succeeded = (job.status.succeeded ?? 0) + Int32(newSucceeded.count + uncounted.succeeded.count)
        state.failed = (job.status.failed ?? 0) + Int32(countedFailures + uncounted.failed.count)
        let now = Int64(time.wallNow.timeIntervalSince1970)
        state.backoff = state.backoff.adding(
            succeeded: newSucceeded.count, failedAt: newFailed.map { Self.finishTime($0) ?? now })
        return state
    }

    /// Pods with the tracking finalizer, not yet in the uncounted lists, that pass `filter`.
    private func newlyFinished(_ state: JobSyncState, _ filter: (Pod) -> Bool) -> [Pod] {
        let completions = Int(state.job.spec.completions ?? 0)
        return state.pods.filter { pod in
            let uid = pod.metadata.uid ?? ""
            guard JobPods.hasTrackingFinalizer(pod), !state.uncountedSucceeded.contains(uid),
                !state.uncountedFailed.contains(uid), !state.expectedRemovals.contains(uid)
            else { return false }
            if JobPods.isIndexed(state.job) {
                guard let index = JobPods.completionIndex(pod), index < completions else { return false }
            }
            return filter(pod)
        }
    }

    /// Sets the interim failure condition when the pod failure policy, the backoff limit or the active
    /// deadline says the Job fails; otherwise requeues the Job at its deadline.
    private func decideFailure(_ state: inout JobSyncState, now: Date) {
        let job = state.job
        if JobPods.hasCondition(job, "SuccessCriteriaMet") {
            state.finished = job.status.conditions.first { $0.type == "SuccessCriteriaMet" }
            return
        }
        if let target = job.status.conditions.first(where: { $0.type == "FailureTarget" && $0.status == "True" }) {
            state.finished = Self.condition("Failed", reason: target.reason, message: target.message, now: now)
            return
        }
        if let policy = job.spec.podFailurePolicy,
            let message = state.pods.lazy.filter({ JobPods.isFailed($0, job: job) })
                .compactMap({ PodFailureVerdict(policy: policy, pod: $0).failJobMessage }).first
        {
            state.finished = Self.condition("FailureTarget", reason: "PodFailurePolicy", message: message, now: now)
            return
        }
        if state.failed > (job.spec.backoffLimit ?? 6) || JobPods.pastBackoffLimitOnFailure(job, pods: state.pods) {
            state.finished = Self.condition(
                "FailureTarget", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit",
                now: now)
        } else if let deadline = job.spec.activeDeadlineSeconds, job.spec.suspend != true,
            let started = job.status.startTime.flatMap(Timestamp.parse)
        {
            let elapsed = Int64(now.timeIntervalSince1970) - started
            if elapsed >= deadline {
                state.finished = Self.condition(
                    "FailureTarget", reason: "DeadlineExceeded",
                    message: "Job was active longer than specified deadline",
                    now: now)
            } else {
                queue.add(.job(state.key), after: .seconds(deadline - elapsed))
            }
        }
    }

    /// Keeps the `Suspended` condition in step with `spec.suspend`, with upstream's events; a resumed Job's
    /// start time restarts so its active deadline counts only time not suspended.
    private func updateSuspension(_ job: inout Job) -> Bool {
        let suspended = job.spec.suspend == true
        let existing = job.status.conditions.firstIndex { $0.type == "Suspended" }
        let status = suspended ? "True" : "False"
        if let existing {
            guard job.status.conditions[existing].status != status else { return false }
        } else if !suspended {
            return false
        }
        let condition = Self.condition(
            "Suspended", status: status, reason: suspended ? "JobSuspended" : "JobResumed",
            message: suspended ? "Job suspended" : "Job resumed", now: time.wallNow)
        if let existing { job.status.conditions[existing] = condition } else { job.status.conditions.append(condition) }
        recorder.eventf(
            regarding: ObjectReference(to: job), type: .normal, reason: suspended ? "Suspended" : "Resumed",
            action: "Sync", note: suspended ? "Job suspended" : "Job resumed")
        if !suspended { job.status.startTime = Self.timestamp(time.wallNow) }
        return true
    }

    /// The pods `job` owns after adoption and release, through its selector (the controller-uid label when
    /// the server generated none). An adopted pod gets the tracking finalizer too, as upstream's adoption
    /// patch adds it, so its end is counted like that of a pod the Job created.
    func claimPods(_ job: Job) async throws -> [Pod] {
        let selector: LabelSelector
        if let spec = job.spec.selector {
            selector = try spec.labelSelector()
        } else {
            selector = try MetaLabelSelector(matchLabels: [JobPods.controllerUIDLabel: job.metadata.uid ?? ""])
                .labelSelector()
        }
        let candidates = pods.list(namespace: job.metadata.namespace ?? "")
        let orphans = Set(candidates.filter { $0.metadata.controllerRef == nil }.compactMap(\.metadata.uid))
        let client = self.client
        var claimed = try await ControllerRefManager<Pod>(client: client).claim(
            candidates, owner: job, selector: selector
        ) {
            let fresh = try await ResourceClient<Job>(client: client, namespace: job.metadata.namespace)
                .get(job.metadata.name ?? "")
            return fresh.metadata.uid == job.metadata.uid && !fresh.metadata.isDeleting
        }
        for position in claimed.indices {
            let pod = claimed[position]
            guard orphans.contains(pod.metadata.uid ?? ""), !JobPods.hasTrackingFinalizer(pod) else { continue }
            let patch: JSON = [
                "metadata": [
                    "finalizers": [.string(JobPods.trackingFinalizer)], "uid": .string(pod.metadata.uid ?? ""),
                ]
            ]
            claimed[position] = try await ResourceClient<Pod>(client: client, namespace: pod.metadata.namespace)
                .patch(pod.metadata.name ?? "", patch, type: .strategicMerge)
        }
        return claimed
    }

    /// When a failed pod finished: its containers' latest exit, else when its deletion began.
    static func finishTime(_ pod: Pod) -> Int64? {
        let exits = (pod.status.initContainerStatuses + pod.status.containerStatuses)
            .compactMap { $0.state?.terminated?.finishedAt.flatMap(Timestamp.parse) }
        return exits.max() ?? pod.metadata.deletionTimestamp.flatMap(Timestamp.parse)
    }

    static func condition(
        _ type: String, status: String = "True", reason: String?, message: String?, now: Date
    ) -> JobCondition {
        let stamp = timestamp(now)
        return JobCondition(
            type: type, status: status, lastProbeTime: stamp, lastTransitionTime: stamp, message: message,
            reason: reason)
    }

    static func timestamp(_ date: Date) -> String {
        Timestamp.format(epochSeconds: Int64(date.timeIntervalSince1970.rounded(.down)))
    }
}

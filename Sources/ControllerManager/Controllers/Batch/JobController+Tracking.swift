import APIMachinery
import Client
import Foundation

extension JobController {
    /// Upstream's `trackJobStatusAndRemoveFinalizers`: records finished pods in
    /// `status.uncountedTerminatedPods`, removes their finalizers, moves them into the counters once the
    /// finalizers are gone, then adds the final `Complete` or `Failed` condition when nothing is left
    /// uncounted or terminating. Writes status whenever something changed.
    func trackStatus(_ state: inout JobSyncState, needsFlush initialFlush: Bool) async throws {
        var needsFlush = initialFlush
        let indexed = JobPods.isIndexed(state.job)
        let completions = Int(state.job.spec.completions ?? 0)
        var pods = state.pods
        if indexed { pods.sort { (JobPods.completionIndex($0) ?? Int.max) < (JobPods.completionIndex($1) ?? Int.max) } }
        var withFinalizer = Set(
            pods.filter { JobPods.hasTrackingFinalizer($0) && !state.expectedRemovals.contains($0.metadata.uid ?? "") }
                .compactMap(\.metadata.uid))
        if Self.countRemoved(&state.job.status, withFinalizer: withFinalizer) { needsFlush = true }
        var uncounted = state.job.status.uncountedTerminatedPods ?? UncountedTerminatedPods()
        var toRelease: [Pod] = []
        var newIndexes: [Int] = []
        var reachedMax = false
        for pod in pods {
            let uid = pod.metadata.uid ?? ""
            guard JobPods.hasTrackingFinalizer(pod), !state.expectedRemovals.contains(uid) else { continue }
            let failed = JobPods.isFailed(pod, job: state.job)
            let canRelease =
                state.job.metadata.isDeleting || state.finished != nil || pod.status.phase == "Succeeded" || failed
            guard canRelease else { continue }
            toRelease.append(pod)
            if pod.status.phase == "Succeeded" && !state.uncountedFailed.contains(uid) {
                if indexed {
                    if let index = JobPods.completionIndex(pod), index < completions,
                        !state.previousSucceededIndexes.contains(index)
                    {
                        newIndexes.append(index)
                        needsFlush = true
                    }
                } else if !state.uncountedSucceeded.contains(uid) {
                    uncounted.succeeded.append(uid)
                    needsFlush = true
                }
            } else if failed || (state.finished != nil && state.finished?.type != "SuccessCriteriaMet") {
                // A Job that is finishing counts every unfinished pod as failed.
                let validIndex = !indexed || (JobPods.completionIndex(pod).map { $0 < completions } ?? false)
                if !state.uncountedFailed.contains(uid) && validIndex {
                    let counts = state.job.spec.podFailurePolicy.map { PodFailureVerdict(policy: $0, pod: pod) }
                    if counts?.countsFailure ?? true {
                        uncounted.failed.append(uid)
                        needsFlush = true
                    }
                }
            }
            if newIndexes.count + uncounted.succeeded.count + uncounted.failed.count >= JobPods.maxUncountedPods {
                // Keep status small and let other Jobs sync; the status update requeues this one.
                reachedMax = true
                break
            }
        }
        state.job.status.uncountedTerminatedPods = uncounted
        if indexed {
            for index in newIndexes { state.succeededIndexes.insert(index) }
            let text = state.succeededIndexes.description
            if text != (state.job.status.completedIndexes ?? "") { needsFlush = true }
            state.job.status.succeeded = state.succeededIndexes.total == 0 ? nil : Int32(state.succeededIndexes.total)
            state.job.status.completedIndexes = text
        }
        promoteInterimCondition(&state, needsFlush: &needsFlush)
        try await flushAndRelease(&state, toRelease, withFinalizer: &withFinalizer, needsFlush: &needsFlush)
        let finished = !reachedMax && enactFinished(&state)
        if finished { needsFlush = true }
        if needsFlush {
            state.job = try await writeStatus(state.job)
            if finished, let condition = state.finished { recordFinished(state.job, condition) }
        }
    }

    /// Writes the interim `FailureTarget` or `SuccessCriteriaMet` condition and turns `state.finished` into
    /// the final condition it leads to.
    private func promoteInterimCondition(_ state: inout JobSyncState, needsFlush: inout Bool) {
        guard let condition = state.finished else { return }
        let now = time.wallNow
        if condition.type == "FailureTarget" {
            state.job.status.conditions.append(condition)
            needsFlush = true
            state.finished = Self.condition("Failed", reason: condition.reason, message: condition.message, now: now)
        } else if condition.type == "SuccessCriteriaMet" {
            if !JobPods.hasCondition(state.job, "SuccessCriteriaMet") {
                state.job.status.conditions.append(condition)
                needsFlush = true
            }
            state.finished = Self.condition(
                "Complete", reason: condition.reason, message: condition.message, now: now)
        }
    }

    /// Writes pending status (so the uncounted UIDs are recorded before any finalizer goes), removes the
    /// finalizers of `pods`, and counts those removed.
    private func flushAndRelease(
        _ state: inout JobSyncState, _ pods: [Pod], withFinalizer: inout Set<String>, needsFlush: inout Bool
    ) async throws {
        if needsFlush {
            state.job = try await writeStatus(state.job)
            let backoff = state.backoff
            backoffs.withLockedValue { $0[state.key] = backoff }
            needsFlush = false
        }
        var removalError: (any Error)?
        if !pods.isEmpty {
            let uids = pods.compactMap(\.metadata.uid)
            finalizerRemovals.withLockedValue { $0[state.key, default: []].formUnion(uids) }
            let results = await withTaskGroup(of: (String, (any Error)?).self) { group in
                for pod in pods {
                    group.addTask { [self] in
                        do {
                            try await removeTrackingFinalizer(pod)
                            return (pod.metadata.uid ?? "", nil)
                        } catch {
                            return (pod.metadata.uid ?? "", error)
                        }
                    }
                }
                var results: [(String, (any Error)?)] = []
                for await result in group { results.append(result) }
                return results
            }
            for (uid, error) in results {
                if let error {
                    removalError = removalError ?? error
                    finalizerRemovals.withLockedValue { _ = $0[state.key]?.remove(uid) }
                } else {
                    withFinalizer.remove(uid)
                }
            }
        }
        if Self.countRemoved(&state.job.status, withFinalizer: withFinalizer) { needsFlush = true }
        if let removalError {
            if needsFlush { state.job = try await writeStatus(state.job) }
            throw removalError
        }
    }

    /// Adds the final condition once no pod is left uncounted or terminating; whether it did.
    private func enactFinished(_ state: inout JobSyncState) -> Bool {
        guard let condition = state.finished else { return false }
        let uncounted = state.job.status.uncountedTerminatedPods
        if !(uncounted?.succeeded.isEmpty ?? true) || !(uncounted?.failed.isEmpty ?? true) { return false }
        if state.terminating > 0 { return false }
        if let existing = state.job.status.conditions.firstIndex(where: { $0.type == condition.type }) {
            state.job.status.conditions[existing] = condition
        } else {
            state.job.status.conditions.append(condition)
        }
        if condition.type == "Complete" { state.job.status.completionTime = condition.lastTransitionTime }
        return true
    }

    private func recordFinished(_ job: Job, _ condition: JobCondition) {
        let reference = ObjectReference(to: job)
        if condition.type == "Complete" {
            if let completions = job.spec.completions, (job.status.succeeded ?? 0) > completions {
                recorder.eventf(
                    regarding: reference, type: .warning, reason: "TooManySucceededPods", action: "Sync",
                    note: "Too many succeeded pods running after completion count reached")
            }
            recorder.eventf(
                regarding: reference, type: .normal, reason: "Completed", action: "Sync", note: "Job completed")
        } else {
            recorder.eventf(
                regarding: reference, type: .warning, reason: condition.reason ?? "", action: "Sync",
                note: condition.message ?? "")
        }
    }

    /// Moves the UIDs of pods that no longer carry the finalizer from the uncounted lists into the
    /// counters; whether anything moved.
    static func countRemoved(_ status: inout JobStatus, withFinalizer: Set<String>) -> Bool {
        var uncounted = status.uncountedTerminatedPods ?? UncountedTerminatedPods()
        let succeeded = uncounted.succeeded.filter(withFinalizer.contains)
        let failed = uncounted.failed.filter(withFinalizer.contains)
        let movedSucceeded = uncounted.succeeded.count - succeeded.count
        let movedFailed = uncounted.failed.count - failed.count
        guard movedSucceeded > 0 || movedFailed > 0 else { return false }
        if movedSucceeded > 0 { status.succeeded = (status.succeeded ?? 0) + Int32(movedSucceeded) }
        if movedFailed > 0 { status.failed = (status.failed ?? 0) + Int32(movedFailed) }
        uncounted.succeeded = succeeded
        uncounted.failed = failed
        status.uncountedTerminatedPods = uncounted
        return true
    }

    /// PUTs `job`'s status; a conflict surfaces as an error, so the key is retried on a fresh cache.
    private func writeStatus(_ job: Job) async throws -> Job {
        try await ResourceClient<Job>(client: client, namespace: job.metadata.namespace).updateStatus(job)
    }
}

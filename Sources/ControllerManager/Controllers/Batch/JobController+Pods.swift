import APIMachinery
import Client
import Foundation

extension JobController {
    /// Creates or deletes pods so that as many run as parallelism and the remaining completions allow, as
    /// upstream's `manageJob`; a suspended Job loses all its active pods. Updates the counts in `state`.
    func manage(_ state: inout JobSyncState) async throws {
        let job = state.job
        if job.spec.suspend == true {
            let (ready, deleted, error) = await deletePods(state.active, of: job, expect: true)
            state.activeCount -= deleted
            state.terminating += deleted
            state.ready -= ready
            if let error { throw error }
            return
        }
        let parallelism = job.spec.parallelism ?? 1
        var wantActive: Int32
        if let completions = job.spec.completions {
            wantActive = max(0, min(completions - state.succeeded, parallelism))
        } else {
            wantActive = state.succeeded > 0 ? state.activeCount : parallelism
        }
        var toDelete: [Pod] = []
        if JobPods.isIndexed(job) {
            toDelete = JobPods.duplicatedIndexPods(state.active, completions: Int(job.spec.completions ?? 0))
        }
        let excess = Int(state.activeCount - wantActive) - toDelete.count
        if excess > 0 {
            let removing = Set(toDelete.compactMap(\.metadata.uid))
            toDelete += JobPods.deletionOrder(state.active.filter { !removing.contains($0.metadata.uid ?? "") })
                .prefix(excess)
        }
        if !toDelete.isEmpty {
            let (ready, deleted, error) = await deletePods(
                Array(toDelete.prefix(JobPods.maxPodCreateDeletePerSync)), of: job, expect: true)
            state.activeCount -= deleted
            state.terminating += deleted
            state.ready -= ready
            if let error { throw error }
            // Deleting takes precedence over creating in one sync, as upstream.
            return
        }
        let terminating = JobPods.onlyReplacesFailedPods(job) ? state.terminating : 0
        var missing = Int(wantActive - terminating - state.activeCount)
        guard missing > 0 else { return }
        let remaining = state.backoff.remaining(now: Int64(time.wallNow.timeIntervalSince1970))
        if remaining > .zero {
            queue.add(.job(state.key), after: remaining)
            return
        }
        missing = min(missing, JobPods.maxPodCreateDeletePerSync)
        var indexes: [Int?] = Array(repeating: nil, count: missing)
        if JobPods.isIndexed(job) {
            indexes = JobPods.pendingIndexes(
                count: missing, completions: Int(job.spec.completions ?? 0), succeeded: state.succeededIndexes,
                active: state.active)
            missing = indexes.count
        }
        guard missing > 0 else { return }
        let created = try await createPods(indexes, for: job, key: state.key)
        state.activeCount += Int32(created)
    }

    /// Creates one pod per entry of `indexes` (nil for a NonIndexed Job) in upstream's slow-start batches
    /// (1, 2, 4, …; a failing batch stops the rest); the number created.
    private func createPods(_ indexes: [Int?], for job: Job, key: ObjectKey) async throws -> Int {
        expectations.expect(key, adds: indexes.count)
        var pending = indexes[...]
        var batch = 1
        var created = 0
        var firstError: (any Error)?
        while !pending.isEmpty, firstError == nil {
            let current = Array(pending.prefix(batch))
            pending = pending.dropFirst(current.count)
            let results = await withTaskGroup(of: (any Error)?.self) { group in
                for index in current {
                    let pod = Self.pod(for: job, index: index)
                    group.addTask { [podControl] in
                        do {
                            try await podControl.create(pod, owner: job)
                            return nil
                        } catch {
                            return error
                        }
                    }
                }
                var errors: [any Error] = []
                for await error in group { if let error { errors.append(error) } }
                return errors
            }
            for _ in results { expectations.creationObserved(key) }
            created += current.count - results.count
            firstError = results.first
            batch *= 2
        }
        // Pods never attempted after a failed batch are not awaited either.
        for _ in pending { expectations.creationObserved(key) }
        if let firstError { throw firstError }
        return created
    }

    /// Deletes `pods` of `job` (keeping their finalizers when the Job is finishing, removing them first when
    /// only scaling down, as upstream); the deleted ready pods, the deleted pods, and the first error.
    func deletePods(_ pods: [Pod], of job: Job, expect: Bool) async -> (Int32, Int32, (any Error)?) {
        guard !pods.isEmpty else { return (0, 0, nil) }
        if expect { expectations.expect(job.key, deleting: pods.compactMap(\.metadata.uid)) }
        let results = await withTaskGroup(of: (Bool, Bool, (any Error)?).self) { group in
            for pod in pods {
                group.addTask { [self] in
                    do {
                        if expect { try await removeTrackingFinalizer(pod) }
                        try await podControl.delete(pod, owner: job)
                        return (true, JobPods.isReady(pod), nil)
                    } catch {
                        if expect { expectations.deletionObserved(job.key, uid: pod.metadata.uid ?? "") }
                        return (false, false, error)
                    }
                }
            }
            var results: [(Bool, Bool, (any Error)?)] = []
            for await result in group { results.append(result) }
            return results
        }
        let deleted = Int32(results.filter(\.0).count)
        let ready = Int32(results.filter(\.1).count)
        return (ready, deleted, results.compactMap(\.2).first)
    }

    /// The pod to create for `job` (and completion `index` of an Indexed Job): the template with the Job's
    /// labels, the tracking finalizer and, for an index, its annotation, label, hostname and
    /// `JOB_COMPLETION_INDEX`.
    static func pod(for job: Job, index: Int?) -> Pod {
        var template = job.spec.template ?? PodTemplateSpec()
        var metadata = template.metadata ?? ObjectMeta()
        if job.spec.manualSelector != true {
            let uid = job.metadata.uid ?? ""
            let name = job.metadata.name ?? ""
            for (label, value) in [
                (JobPods.controllerUIDLabel, uid), (JobPods.legacyControllerUIDLabel, uid),
                (JobPods.jobNameLabel, name), (JobPods.legacyJobNameLabel, name),
            ] where metadata.labels[label] == nil {
                metadata.labels[label] = value
            }
        }
        if !metadata.finalizers.contains(JobPods.trackingFinalizer) {
            metadata.finalizers.append(JobPods.trackingFinalizer)
        }
        var spec = template.spec ?? PodSpec()
        if let index {
            metadata.annotations[JobPods.completionIndexKey] = String(index)
            metadata.labels[JobPods.completionIndexKey] = String(index)
            spec.hostname = "\(job.metadata.name ?? "")-\(index)"
            let variable = EnvVar(
                name: "JOB_COMPLETION_INDEX",
                valueFrom: EnvVarSource(
                    fieldRef: ObjectFieldSelector(
                        fieldPath: "metadata.annotations['\(JobPods.completionIndexKey)']")))
            for position in spec.containers.indices
            where !spec.containers[position].env.contains(where: {
                $0.name == "JOB_COMPLETION_INDEX"
            }) {
                spec.containers[position].env.append(variable)
            }
            for position in spec.initContainers.indices
            where !spec.initContainers[position].env.contains(where: {
                $0.name == "JOB_COMPLETION_INDEX"
            }) {
                spec.initContainers[position].env.append(variable)
            }
        }
        template.metadata = metadata
        template.spec = spec
        var pod = PodControl.pod(from: template, owner: job)
        if let index { pod.metadata.generateName = JobPods.generateName(job: job.metadata.name ?? "", index: index) }
        return pod
    }
}

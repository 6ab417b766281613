import APIMachinery
import Client
import Foundation

extension CronJobController {
    /// Syncs CronJob `key`: reconciles `status.active` with its Jobs, starts the due Job, trims the history,
    /// writes status, and requeues at the next start.
    func sync(_ key: ObjectKey) async throws {
        guard let cached = cronJobs.get(namespace: key.namespace, name: key.name) else { return }
        let owned = jobs.list(namespace: key.namespace).filter {
            $0.metadata.controllerRef?.uid == cached.metadata.uid
        }
        var cronJob = cached
        var changed = false
        var requeue: Duration?
        var syncError: (any Error)?
        do {
            requeue = try await syncCronJob(&cronJob, jobs: owned, changed: &changed)
        } catch {
            syncError = error
        }
        if await cleanUpFinishedJobs(&cronJob, jobs: owned) { changed = true }
        if changed {
            do {
                _ = try await ResourceClient<CronJob>(client: client, namespace: key.namespace).updateStatus(cronJob)
            } catch let error as StatusError where error.code == 404 {
                return
            }
        }
        if let requeue { queue.add(key, after: requeue) }
        if let syncError { throw syncError }
    }

    /// Upstream's `syncCronJob`; returns when to look again.
    private func syncCronJob(_ cronJob: inout CronJob, jobs: [Job], changed: inout Bool) async throws -> Duration? {
        let now = time.wallNow
        try await reconcileActive(&cronJob, jobs: jobs, changed: &changed)
        if cronJob.metadata.isDeleting { return nil }
        if let zone = cronJob.spec.timeZone, CronSchedule.zone(named: zone) == nil {
            event(cronJob, .warning, "UnknownTimeZone", "invalid timeZone: \"\(zone)\": unknown time zone \(zone)")
            return nil
        }
        if cronJob.spec.suspend == true { return nil }
        let schedule: CronSchedule
        do {
            schedule = try Self.schedule(of: cronJob, recorder: recorder)
        } catch {
            // A user error: nothing to do until the spec changes.
            event(
                cronJob, .warning, "UnparseableSchedule",
                "unparseable schedule: \"\(cronJob.spec.schedule ?? "")\" : \(error)")
            return nil
        }
        let created = Self.date(cronJob.metadata.creationTimestamp) ?? now
        let timing: CronJobTiming
        do {
            timing = try CronJobTiming(
                schedule: schedule, created: created, lastSchedule: Self.date(cronJob.status.lastScheduleTime),
                startingDeadlineSeconds: cronJob.spec.startingDeadlineSeconds, now: now)
        } catch {
            event(cronJob, .warning, "InvalidSchedule", "invalid schedule: \(cronJob.spec.schedule ?? "") : \(error)")
            return nil
        }
        if timing.missed == .many {
            event(
                cronJob, .warning, "TooManyMissedTimes",
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew")
        }
        let next = { (job: CronJob) in
            CronJobTiming.requeueDelay(
                schedule: schedule, created: created, lastSchedule: Self.date(job.status.lastScheduleTime), now: now)
        }
        guard let scheduled = timing.mostRecent else { return next(cronJob) }
        if let deadline = cronJob.spec.startingDeadlineSeconds,
            scheduled.addingTimeInterval(Double(deadline)) < now
        {
            event(
                cronJob, .warning, "MissSchedule", "Missed scheduled time to start a job: \(Self.rfc1123Z(scheduled))")
            return next(cronJob)
        }
        let name = CronJobTiming.jobName(cronJob: cronJob.metadata.name ?? "", scheduled: scheduled)
        if cronJob.status.active.contains(where: { $0.name == name })
            || Self.date(cronJob.status.lastScheduleTime) == scheduled
        {
            return next(cronJob)
        }
        if cronJob.spec.concurrencyPolicy == "Forbid" && !cronJob.status.active.isEmpty {
            event(
                cronJob, .normal, "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is Forbid")
            return next(cronJob)
        }
        if cronJob.spec.concurrencyPolicy == "Replace" {
            for reference in cronJob.status.active {
                let job: Job
                do {
                    job = try await ResourceClient<Job>(client: client, namespace: reference.namespace)
                        .get(reference.name ?? "")
                } catch let error as StatusError where error.code == 404 {
                    continue
                }
                guard await deleteJob(job, of: &cronJob) else {
                    throw CronJobError(
                        message: "could not replace job \(reference.namespace ?? "")/\(reference.name ?? "")")
                }
                changed = true
            }
        }
        guard let created = try await createJob(for: cronJob, scheduled: scheduled) else { return nil }
        cronJob.status.active.append(ObjectReference(to: created))
        cronJob.status.lastScheduleTime = Self.timestamp(scheduled)
        changed = true
        return next(cronJob)
    }

    /// Drops finished and vanished Jobs from `status.active`, notes the latest success, and warns about
    /// running Jobs it does not list.
    private func reconcileActive(_ cronJob: inout CronJob, jobs: [Job], changed: inout Bool) async throws {
        let children = Set(jobs.compactMap(\.metadata.uid))
        for job in jobs {
            let listed = cronJob.status.active.contains { $0.uid == job.metadata.uid }
            let finished = JobPods.finishedCondition(job)
            if !listed && finished == nil {
                let fresh = try await ResourceClient<CronJob>(client: client, namespace: cronJob.metadata.namespace)
                    .get(cronJob.metadata.name ?? "")
                if fresh.status.active.contains(where: { $0.uid == job.metadata.uid }) {
                    cronJob = fresh
                    continue
                }
                event(
                    cronJob, .warning, "UnexpectedJob",
                    "Saw a job that the controller did not create or forgot: \(job.metadata.name ?? "")")
            } else if listed, let finished {
                cronJob.status.active.removeAll { $0.uid == job.metadata.uid }
                event(
                    cronJob, .normal, "SawCompletedJob",
                    "Saw completed job: \(job.metadata.name ?? ""), condition: \(finished.type ?? "")")
                changed = true
            }
            if finished?.type == "Complete", let completion = Self.date(job.status.completionTime),
                Self.date(cronJob.status.lastSuccessfulTime).map({ completion > $0 }) ?? true
            {
                cronJob.status.lastSuccessfulTime = job.status.completionTime
                changed = true
            }
        }
        for reference in cronJob.status.active where !children.contains(reference.uid ?? "") {
            // The cache may lag: ask the server before calling the Job missing.
            do {
                _ = try await ResourceClient<Job>(client: client, namespace: reference.namespace)
                    .get(reference.name ?? "")
            } catch let error as StatusError where error.code == 404 {
                event(cronJob, .normal, "MissingJob", "Active job went missing: \(reference.name ?? "")")
                cronJob.status.active.removeAll { $0.uid == reference.uid }
                changed = true
            }
        }
    }

    /// Creates the Job for the start at `scheduled`; nil when another actor's Job holds the name or this
    /// one already lists it.
    private func createJob(for cronJob: CronJob, scheduled: Date) async throws -> Job? {
        let template = cronJob.spec.jobTemplate ?? JobTemplateSpec()
        var metadata = ObjectMeta()
        metadata.name = CronJobTiming.jobName(cronJob: cronJob.metadata.name ?? "", scheduled: scheduled)
        metadata.namespace = cronJob.metadata.namespace
        metadata.labels = template.metadata?.labels ?? [:]
        metadata.annotations = template.metadata?.annotations ?? [:]
        let zone = CronSchedule.zone(named: cronJob.spec.timeZone ?? "") ?? TimeZone(secondsFromGMT: 0) ?? .current
        metadata.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"] = CronJobTiming.rfc3339(
            scheduled, in: zone)
        metadata.ownerReferences = [OwnerReference(controller: cronJob)]
        let request = Job(metadata: metadata, spec: template.spec ?? JobSpec())
        let jobs = ResourceClient<Job>(client: client, namespace: cronJob.metadata.namespace)
        do {
            let created = try await jobs.create(request)
            event(cronJob, .normal, "SuccessfulCreate", "Created job \(created.metadata.name ?? "")")
            return created
        } catch let error as StatusError where error.code == 409 && error.reason == "AlreadyExists" {
            let existing = try await jobs.get(metadata.name ?? "")
            guard existing.metadata.controllerRef?.uid == cronJob.metadata.uid,
                !cronJob.status.active.contains(where: { $0.uid == existing.metadata.uid })
            else { return nil }
            return existing
        } catch let error as StatusError where Self.isNamespaceTerminating(error) {
            // Every creation fails until the namespace is gone: no event for that.
            throw error
        } catch {
            event(cronJob, .warning, "FailedCreate", "Error creating job: \(error)")
            throw error
        }
    }

    /// Deletes finished Jobs beyond the history limits, oldest start first; whether status changed.
    private func cleanUpFinishedJobs(_ cronJob: inout CronJob, jobs: [Job]) async -> Bool {
        let successLimit = cronJob.spec.successfulJobsHistoryLimit
        let failureLimit = cronJob.spec.failedJobsHistoryLimit
        guard successLimit != nil || failureLimit != nil else { return false }
        let finished = jobs.filter { JobPods.finishedCondition($0) != nil && !$0.metadata.isDeleting }
        let succeeded = finished.filter { JobPods.finishedCondition($0)?.type == "Complete" }
        let failed = finished.filter { JobPods.finishedCondition($0)?.type == "Failed" }
        var changed = false
        for (group, limit) in [(succeeded, successLimit), (failed, failureLimit)] {
            guard let limit, group.count > Int(limit) else { continue }
            for job in Self.byStartTime(group).prefix(group.count - Int(limit)) where await deleteJob(job, of: &cronJob)
            {
                changed = true
            }
        }
        return changed
    }

    /// Oldest start first; Jobs that never started last, then by name, as upstream's `byJobStartTime`.
    static func byStartTime(_ jobs: [Job]) -> [Job] {
        jobs.sorted { lhs, rhs in
            let left = lhs.status.startTime.flatMap(Timestamp.parse)
            let right = rhs.status.startTime.flatMap(Timestamp.parse)
            switch (left, right) {
            case (nil, nil): return (lhs.metadata.name ?? "") < (rhs.metadata.name ?? "")
            case (nil, _): return false
            case (_, nil): return true
            case (let left?, let right?):
                return left == right ? (lhs.metadata.name ?? "") < (rhs.metadata.name ?? "") : left < right
            }
        }
    }

    /// Deletes `job` in the background and drops it from `status.active`; whether it is gone.
    private func deleteJob(_ job: Job, of cronJob: inout CronJob) async -> Bool {
        do {
            try await ResourceClient<Job>(client: client, namespace: job.metadata.namespace)
                .delete(job.metadata.name ?? "", options: DeleteOptions(propagationPolicy: "Background"))
        } catch let error as StatusError where error.code == 404 {
            // Already gone: as good as deleted.
        } catch {
            event(cronJob, .warning, "FailedDelete", "Deleted job: \(error)")
            return false
        }
        cronJob.status.active.removeAll { $0.uid == job.metadata.uid }
        event(cronJob, .normal, "SuccessfulDelete", "Deleted job \(job.metadata.name ?? "")")
        return true
    }

    /// Whether the namespace is being deleted (the `NamespaceTerminating` cause upstream checks).
    static func isNamespaceTerminating(_ error: StatusError) -> Bool {
        let causes = JSON.object(error.details ?? JSONObject())["causes"]?.arrayValue ?? []
        return causes.contains { $0["reason"]?.stringValue == "NamespaceTerminating" }
    }

    private func event(_ cronJob: CronJob, _ type: EventType, _ reason: String, _ note: String) {
        recorder.eventf(regarding: ObjectReference(to: cronJob), type: type, reason: reason, action: "Sync", note: note)
    }

    /// Go's `time.RFC1123Z` in UTC (`Mon, 02 Jan 2006 15:04:05 +0000`), as upstream's MissSchedule event says it.
    static func rfc1123Z(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}

/// A CronJob sync that cannot go on (a Job it must replace would not go).
struct CronJobError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

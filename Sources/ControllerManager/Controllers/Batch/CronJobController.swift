import APIMachinery
import Client
import Component
import Foundation
import Logging

/// Upstream's `cronjob-controller` (the v2 controller): creates a CronJob's Jobs at their scheduled times,
/// honours the concurrency policy and starting deadline, keeps `status.active` and the schedule times,
/// trims finished Jobs to the history limits, and sleeps until the next start.
public final class CronJobController: Controller {
    public static let descriptor = ControllerDescriptor(
        name: "cronjob-controller", aliases: ["cronjob"], serviceAccount: "cronjob-controller",
        flags: [FlagDefinition("concurrent-cron-job-syncs", default: "5")], workersFlag: "concurrent-cron-job-syncs"
    ) { context in try CronJobController(context: context) }

    let client: RESTClient
    let recorder: EventRecorder
    let time: any TimeSource
    let logger: Logger
    let cronJobs: Lister<CronJob>
    let jobs: Lister<Job>
    let queue: RateLimitingQueue<ObjectKey>

    public init(context: ControllerContext) throws {
        client = context.client
        recorder = context.recorder
        time = context.time
        logger = context.logger
        let cronJobInformer = context.informers.informer(for: CronJob.self)
        let jobInformer = context.informers.informer(for: Job.self)
        cronJobs = cronJobInformer.lister
        jobs = jobInformer.lister
        queue = RateLimitingQueue(name: "cronjob", time: context.time)

        _ = cronJobInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [weak self] cronJob, _ in self?.queue.add(cronJob.key) },
                onUpdate: { [weak self] old, new in self?.cronJobUpdated(old: old, new: new) }))
        _ = jobInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [weak self] job, _ in self?.enqueueOwner(of: job) },
                onUpdate: { [weak self] old, new in
                    self?.enqueueOwner(of: new)
                    if old.metadata.controllerRef?.uid != new.metadata.controllerRef?.uid {
                        self?.enqueueOwner(of: old)
                    }
                },
                onDelete: { [weak self] event in self?.enqueueOwner(of: event.object) }))
    }

    public func run(workers: Int) async {
        await queue.runWorkers(workers, logger: logger) { [self] key in try await sync(key) }
    }

    /// A changed schedule or zone is acted on at its next start, not at once: a start the old schedule
    /// never had must not look missed.
    private func cronJobUpdated(old: CronJob, new: CronJob) {
        guard old.spec.schedule != new.spec.schedule || old.spec.timeZone != new.spec.timeZone else {
            queue.add(new.key)
            return
        }
        guard let schedule = try? Self.schedule(of: new, recorder: nil),
            let delay = CronJobTiming.requeueDelay(
                schedule: schedule, created: Self.date(new.metadata.creationTimestamp) ?? time.wallNow,
                lastSchedule: Self.date(new.status.lastScheduleTime), now: time.wallNow)
        else {
            queue.add(new.key)
            return
        }
        queue.add(new.key, after: delay)
    }

    private func enqueueOwner(of job: Job) {
        guard let reference = job.metadata.controllerRef, reference.kind == "CronJob" else { return }
        queue.add(ObjectKey(namespace: job.metadata.namespace ?? "", name: reference.name ?? ""))
    }

    /// The CronJob's schedule with `spec.timeZone` applied as upstream composes it (`TZ=<zone> <schedule>`);
    /// without a zone the controller's own zone applies, as robfig/cron's default.
    static func schedule(of cronJob: CronJob, recorder: EventRecorder?) throws(CronSchedule.ParseError)
        -> CronSchedule
    {
        var text = cronJob.spec.schedule ?? ""
        if text.contains("TZ") {
            recorder?.eventf(
                regarding: ObjectReference(to: cronJob), type: .warning, reason: "UnsupportedSchedule", action: "Sync",
                note:
                    "CRON_TZ or TZ used in schedule \"\(text)\" is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details"
            )
        } else if let zone = cronJob.spec.timeZone {
            text = "TZ=\(zone) \(text)"
        }
        return try CronSchedule(parsing: text, defaultTimeZone: .current)
    }

    static func date(_ timestamp: String?) -> Date? {
        timestamp.flatMap(Timestamp.parse).map { Date(timeIntervalSince1970: Double($0)) }
    }

    static func timestamp(_ date: Date) -> String {
        Timestamp.format(epochSeconds: Int64(date.timeIntervalSince1970.rounded(.down)))
    }
}

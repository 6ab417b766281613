import APIMachinery
import Client
import Foundation
import XCTest

@testable import ControllerManager

/// The cronjob controller on a fake clock: it creates each minute's Job when the clock reaches it, and
/// trims finished Jobs to the history limit. No job controller runs; the test finishes Jobs itself.
final class CronJobControllerTests: XCTestCase {
    private func complete(_ harness: BatchTestHarness, _ name: String) async throws {
        var job = try await harness.jobs.get(name)
        let now = Timestamp.format(epochSeconds: Int64(harness.time.wallNow.timeIntervalSince1970))
        job.status.startTime = now
        job.status.completionTime = now
        job.status.succeeded = 1
        job.status.conditions = [
            JobCondition(type: "SuccessCriteriaMet", status: "True", lastTransitionTime: now),
            JobCondition(type: "Complete", status: "True", lastTransitionTime: now),
        ]
        _ = try await harness.jobs.updateStatus(job)
    }

    private func jobNames(_ harness: BatchTestHarness) async throws -> [String] {
        try await harness.jobs.list().items.filter { !$0.metadata.isDeleting }.compactMap(\.metadata.name).sorted()
    }

    func testAJobStartsEachMinuteAndFinishedOnesAreTrimmedToTheHistoryLimit() async throws {
        let harness = try await BatchTestHarness(prefix: "cronjob")
        let controller = try CronJobController(context: try harness.context())
        try await harness.run(controller)
        var cronJob = CronJob()
        cronJob.metadata.name = "tick"
        cronJob.spec.schedule = "* * * * *"
        cronJob.spec.timeZone = "Etc/UTC"
        cronJob.spec.successfulJobsHistoryLimit = 1
        cronJob.spec.failedJobsHistoryLimit = 1
        var template = JobTemplateSpec()
        template.metadata = ObjectMeta(labels: ["app": "tick"])
        template.spec = JobSpec(template: BatchTestHarness.template())
        cronJob.spec.jobTemplate = template
        let created = try await harness.cronJobs.create(cronJob)
        let createdAt = try XCTUnwrap(created.metadata.creationTimestamp.flatMap(Timestamp.parse))

        // Nothing before the first minute boundary after creation.
        try await Task.sleep(for: .milliseconds(300))
        let before = try await jobNames(harness)
        XCTAssertEqual(before, [])

        let firstMinute = (createdAt / 60 + 1) * 60
        let first = "tick-\(firstMinute / 60)"
        let firstJob = try await harness.eventually("the first minute's Job", advance: .seconds(10)) {
            try await harness.jobs.list().items.first { $0.metadata.name == first }
        }
        XCTAssertEqual(firstJob.metadata.labels["app"], "tick")
        XCTAssertEqual(firstJob.metadata.controllerRef?.uid, created.metadata.uid)
        XCTAssertEqual(
            firstJob.metadata.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"],
            Timestamp.format(epochSeconds: firstMinute))
        let running = try await harness.eventually("status.active") {
            let cronJob = try await harness.cronJobs.get("tick")
            return cronJob.status.active.count == 1 ? cronJob : nil
        }
        XCTAssertEqual(running.status.active.first?.name, first)
        XCTAssertEqual(running.status.lastScheduleTime, Timestamp.format(epochSeconds: firstMinute))

        try await complete(harness, first)
        let second = "tick-\(firstMinute / 60 + 1)"
        _ = try await harness.eventually("the next minute's Job", advance: .seconds(10)) {
            try await jobNames(harness).contains(second) ? true : nil
        }
        try await complete(harness, second)
        // Two successes with a limit of one: the older goes.
        let names = try await harness.eventually("history trimmed to one success") {
            let names = try await jobNames(harness)
            return names.contains(first) ? nil : names
        }
        XCTAssertTrue(names.contains(second))
        let settled = try await harness.eventually("the CronJob's status settled") {
            let cronJob = try await harness.cronJobs.get("tick")
            return cronJob.status.lastSuccessfulTime != nil && !cronJob.status.active.contains { $0.name == second }
                ? cronJob : nil
        }
        XCTAssertNotNil(settled.status.lastScheduleTime)
        let reasons = try await harness.eventually("the events") {
            let reasons = try await harness.eventReasons(about: "tick")
            return reasons.contains("SuccessfulDelete") ? reasons : nil
        }
        XCTAssertTrue(reasons.contains("SuccessfulCreate"), "\(reasons)")
        XCTAssertTrue(reasons.contains("SawCompletedJob"), "\(reasons)")
        await harness.stop()
    }

    /// Starts a per-minute CronJob with `policy` and returns the first minute's Job name and the second's.
    private func startConcurrent(_ harness: BatchTestHarness, policy: String) async throws -> (String, String) {
        try await harness.run(try CronJobController(context: try harness.context()))
        var cronJob = CronJob()
        cronJob.metadata.name = "overlap"
        cronJob.spec.schedule = "* * * * *"
        cronJob.spec.concurrencyPolicy = policy
        cronJob.spec.jobTemplate = JobTemplateSpec(spec: JobSpec(template: BatchTestHarness.template()))
        let created = try await harness.cronJobs.create(cronJob)
        let minute = try XCTUnwrap(created.metadata.creationTimestamp.flatMap(Timestamp.parse)) / 60 + 1
        let first = "overlap-\(minute)"
        _ = try await harness.eventually("the first Job", advance: .seconds(10)) {
            try await jobNames(harness).contains(first) ? true : nil
        }
        _ = try await harness.eventually("the first Job listed active") {
            try await harness.cronJobs.get("overlap").status.active.count == 1 ? true : nil
        }
        return (first, "overlap-\(minute + 1)")
    }

    func testForbidSkipsAStartWhileTheLastJobRuns() async throws {
        let harness = try await BatchTestHarness(prefix: "cronjob-forbid")
        let (first, second) = try await startConcurrent(harness, policy: "Forbid")
        _ = try await harness.eventually("the JobAlreadyActive event", advance: .seconds(10)) {
            try await harness.eventReasons(about: "overlap").contains("JobAlreadyActive") ? true : nil
        }
        let names = try await jobNames(harness)
        XCTAssertEqual(names, [first])
        XCTAssertFalse(names.contains(second))
        await harness.stop()
    }

    func testReplaceDeletesTheRunningJobForTheNextStart() async throws {
        let harness = try await BatchTestHarness(prefix: "cronjob-replace")
        let (first, second) = try await startConcurrent(harness, policy: "Replace")
        let names = try await harness.eventually("the replacement", advance: .seconds(10)) {
            let names = try await jobNames(harness)
            return names.contains(second) ? names : nil
        }
        XCTAssertFalse(names.contains(first), "\(names)")
        let active = try await harness.eventually("only the replacement active") {
            let cronJob = try await harness.cronJobs.get("overlap")
            return cronJob.status.active.count == 1 ? cronJob.status.active : nil
        }
        XCTAssertEqual(active.first?.name, second)
        await harness.stop()
    }

    func testAnUnparseableScheduleIsReportedAndNothingRuns() async throws {
        let harness = try await BatchTestHarness(prefix: "cronjob-bad")
        let controller = try CronJobController(context: try harness.context())
        try await harness.run(controller)
        var cronJob = CronJob()
        cronJob.metadata.name = "broken"
        cronJob.spec.schedule = "61 * * * *"
        cronJob.spec.jobTemplate = JobTemplateSpec(spec: JobSpec(template: BatchTestHarness.template()))
        _ = try await harness.cronJobs.create(cronJob)
        _ = try await harness.eventually("the UnparseableSchedule event") {
            try await harness.eventReasons(about: "broken").contains("UnparseableSchedule") ? true : nil
        }
        harness.time.advance(by: .seconds(3600))
        try await Task.sleep(for: .milliseconds(200))
        let before = try await jobNames(harness)
        XCTAssertEqual(before, [])
        await harness.stop()
    }
}

import APIMachinery
import Client
import XCTest

@testable import ControllerManager

/// The job controller against the in-process API server; the tests play the kubelet by writing pod phases.
final class JobControllerTests: XCTestCase {
    private func job(_ name: String, completions: Int32, parallelism: Int32, backoffLimit: Int32 = 6) -> Job {
        var job = Job()
        job.metadata.name = name
        job.spec.completions = completions
        job.spec.parallelism = parallelism
        job.spec.backoffLimit = backoffLimit
        job.spec.template = BatchTestHarness.template()
        return job
    }

    /// The job's pods that are neither finished nor being deleted.
    private func activePods(_ harness: BatchTestHarness, of job: Job) async throws -> [Pod] {
        try await harness.pods.list(labelSelector: "\(JobPods.controllerUIDLabel)=\(job.metadata.uid ?? "")").items
            .filter(JobPods.isActive)
    }

    func testAJobRunsItsCompletionsWithinParallelismThenCompletes() async throws {
        let harness = try await BatchTestHarness(prefix: "job-complete")
        let controller = try JobController(context: try harness.context())
        try await harness.run(controller)
        let created = try await harness.jobs.create(job("work", completions: 3, parallelism: 2))

        let first = try await harness.eventually("two pods") {
            let pods = try await activePods(harness, of: created)
            return pods.count == 2 ? pods : nil
        }
        for pod in first {
            XCTAssertEqual(pod.metadata.finalizers, [JobPods.trackingFinalizer])
            XCTAssertEqual(pod.metadata.labels["job-name"], "work")
            XCTAssertEqual(pod.metadata.controllerRef?.uid, created.metadata.uid)
            try await harness.setPhase(pod.metadata.name ?? "", "Succeeded", exitCode: 0)
        }
        // Two of three done: exactly one more pod, never more than the remaining completions.
        let last = try await harness.eventually("the third pod") {
            let pods = try await activePods(harness, of: created)
            return pods.count == 1 ? pods[0] : nil
        }
        let midway = try await harness.eventually("two successes counted") {
            let job = try await harness.jobs.get("work")
            return job.status.succeeded == 2 ? job : nil
        }
        XCTAssertNotNil(midway.status.startTime)
        try await harness.setPhase(last.metadata.name ?? "", "Succeeded", exitCode: 0)

        let done = try await harness.eventually("the Complete condition") {
            let job = try await harness.jobs.get("work")
            return JobPods.hasCondition(job, "Complete") ? job : nil
        }
        XCTAssertEqual(done.status.succeeded, 3)
        XCTAssertNil(done.status.failed)
        XCTAssertNil(done.status.active)
        XCTAssertNotNil(done.status.completionTime)
        XCTAssertTrue(JobPods.hasCondition(done, "SuccessCriteriaMet"))
        XCTAssertEqual(done.status.conditions.first { $0.type == "Complete" }?.reason, "CompletionsReached")
        XCTAssertEqual(done.status.uncountedTerminatedPods?.succeeded ?? [], [])
        // Every counted pod lost its tracking finalizer.
        let remaining = try await harness.pods.list().items
        XCTAssertEqual(remaining.count, 3)
        XCTAssertTrue(remaining.allSatisfy { !JobPods.hasTrackingFinalizer($0) })
        let reasons = try await harness.eventually("the Completed event") {
            let reasons = try await harness.eventReasons(about: "work")
            return reasons.contains("Completed") ? reasons : nil
        }
        XCTAssertEqual(reasons.filter { $0 == "SuccessfulCreate" }.count, 3)
        await harness.stop()
    }

    func testAFailingJobIsRetriedWithBackoffThenFailsAtItsBackoffLimit() async throws {
        let harness = try await BatchTestHarness(prefix: "job-fail")
        let controller = try JobController(context: try harness.context())
        try await harness.run(controller)
        let created = try await harness.jobs.create(job("flaky", completions: 1, parallelism: 1, backoffLimit: 1))

        var seen = Set<String>()
        for attempt in 1...2 {
            // The replacement waits out the backoff on the fake clock, which the poll moves on.
            let pod = try await harness.eventually("pod \(attempt)", advance: .seconds(5)) {
                try await activePods(harness, of: created).first { !seen.contains($0.metadata.uid ?? "") }
            }
            seen.insert(pod.metadata.uid ?? "")
            try await harness.setPhase(pod.metadata.name ?? "", "Failed", exitCode: 1)
        }
        let failed = try await harness.eventually("the Failed condition") {
            let job = try await harness.jobs.get("flaky")
            return JobPods.hasCondition(job, "Failed") ? job : nil
        }
        XCTAssertEqual(failed.status.failed, 2)
        XCTAssertEqual(failed.status.conditions.first { $0.type == "Failed" }?.reason, "BackoffLimitExceeded")
        XCTAssertEqual(
            failed.status.conditions.first { $0.type == "FailureTarget" }?.message,
            "Job has reached the specified backoff limit")
        XCTAssertNil(failed.status.completionTime)
        XCTAssertEqual(seen.count, 2)
        // No third attempt, however long one waits.
        harness.time.advance(by: .seconds(600))
        try await Task.sleep(for: .milliseconds(300))
        let pods = try await harness.pods.list().items
        XCTAssertEqual(pods.count, 2)
        _ = try await harness.eventually("the BackoffLimitExceeded event") {
            try await harness.eventReasons(about: "flaky").contains("BackoffLimitExceeded") ? true : nil
        }
        await harness.stop()
    }

    func testAnIndexedJobRunsOnePodPerIndexAndRecordsCompletedIndexes() async throws {
        let harness = try await BatchTestHarness(prefix: "job-indexed")
        let controller = try JobController(context: try harness.context())
        try await harness.run(controller)
        var spec = job("indexed", completions: 3, parallelism: 3)
        spec.spec.completionMode = "Indexed"
        let created = try await harness.jobs.create(spec)

        let pods = try await harness.eventually("three indexed pods") {
            let pods = try await activePods(harness, of: created)
            return pods.count == 3 ? pods : nil
        }
        XCTAssertEqual(Set(pods.compactMap(JobPods.completionIndex)), [0, 1, 2])
        XCTAssertEqual(Set(pods.compactMap(\.spec.hostname)), ["indexed-0", "indexed-1", "indexed-2"])
        for pod in pods where JobPods.completionIndex(pod) != 1 {
            try await harness.setPhase(pod.metadata.name ?? "", "Succeeded", exitCode: 0)
        }
        _ = try await harness.eventually("indexes 0 and 2 completed") {
            try await harness.jobs.get("indexed").status.completedIndexes == "0,2" ? true : nil
        }
        let middle = try XCTUnwrap(pods.first { JobPods.completionIndex($0) == 1 })
        try await harness.setPhase(middle.metadata.name ?? "", "Succeeded", exitCode: 0)
        let done = try await harness.eventually("the Complete condition") {
            let job = try await harness.jobs.get("indexed")
            return JobPods.hasCondition(job, "Complete") ? job : nil
        }
        XCTAssertEqual(done.status.completedIndexes, "0-2")
        XCTAssertEqual(done.status.succeeded, 3)
        await harness.stop()
    }
}

/// Ways a Job ends or pauses other than by counting: its pod failure policy, its active deadline, suspension.
final class JobControllerPolicyTests: XCTestCase {
    private func job(_ name: String, completions: Int32 = 1, parallelism: Int32 = 1) -> Job {
        var job = Job()
        job.metadata.name = name
        job.spec.completions = completions
        job.spec.parallelism = parallelism
        job.spec.template = BatchTestHarness.template()
        return job
    }

    private func pods(_ harness: BatchTestHarness, of job: Job) async throws -> [Pod] {
        try await harness.pods.list(labelSelector: "\(JobPods.controllerUIDLabel)=\(job.metadata.uid ?? "")").items
    }

    private func condition(_ harness: BatchTestHarness, _ name: String, _ type: String) async throws -> Job {
        try await harness.eventually("condition \(type) on \(name)") {
            let job = try await harness.jobs.get(name)
            return JobPods.hasCondition(job, type) ? job : nil
        }
    }

    func testAFailJobRuleFailsTheJobAtTheFirstMatchingExit() async throws {
        let harness = try await BatchTestHarness(prefix: "job-policy")
        try await harness.run(try JobController(context: try harness.context()))
        var spec = job("strict")
        spec.spec.podFailurePolicy = PodFailurePolicy(rules: [
            PodFailurePolicyRule(
                action: "FailJob", onExitCodes: PodFailurePolicyOnExitCodesRequirement(operator: "In", values: [42]))
        ])
        let created = try await harness.jobs.create(spec)
        let pod = try await harness.eventually("the pod") { try await pods(harness, of: created).first }
        try await harness.setPhase(pod.metadata.name ?? "", "Failed", exitCode: 42)

        let failed = try await condition(harness, "strict", "Failed")
        let reason = failed.status.conditions.first { $0.type == "Failed" }
        XCTAssertEqual(reason?.reason, "PodFailurePolicy")
        XCTAssertEqual(
            reason?.message,
            "Container main for pod \(harness.namespace)/\(pod.metadata.name ?? "") failed with exit code 42 matching FailJob rule at index 0"
        )
        XCTAssertEqual(failed.status.failed, 1)
        let remaining = try await pods(harness, of: created)
        XCTAssertEqual(remaining.count, 1, "no replacement after FailJob")
        await harness.stop()
    }

    func testAJobPastItsActiveDeadlineLosesItsPodsAndFails() async throws {
        let harness = try await BatchTestHarness(prefix: "job-deadline")
        try await harness.run(try JobController(context: try harness.context()))
        var spec = job("slow", completions: 2, parallelism: 2)
        spec.spec.activeDeadlineSeconds = 30
        let created = try await harness.jobs.create(spec)
        _ = try await harness.eventually("two running pods") {
            let pods = try await pods(harness, of: created)
            return pods.count == 2 ? pods : nil
        }
        harness.time.advance(by: .seconds(31))
        let failed = try await condition(harness, "slow", "Failed")
        XCTAssertEqual(failed.status.conditions.first { $0.type == "Failed" }?.reason, "DeadlineExceeded")
        XCTAssertTrue(JobPods.hasCondition(failed, "FailureTarget"))
        XCTAssertEqual(failed.status.failed, 2)
        XCTAssertEqual(failed.status.terminating, 0)
        _ = try await harness.eventually("the pods gone") { try await pods(harness, of: created).isEmpty ? true : nil }
        await harness.stop()
    }

    func testAnOrphanPodMatchingTheSelectorIsAdoptedAndCounted() async throws {
        let harness = try await BatchTestHarness(prefix: "job-adopt")
        var orphan = Pod()
        orphan.metadata.name = "stray"
        orphan.metadata.labels = ["app": "adopt"]
        orphan.spec = BatchTestHarness.template().spec ?? PodSpec()
        _ = try await harness.pods.create(orphan)
        try await harness.run(try JobController(context: try harness.context()))
        var spec = job("adopter")
        spec.spec.manualSelector = true
        spec.spec.selector = MetaLabelSelector(matchLabels: ["app": "adopt"])
        spec.spec.template = BatchTestHarness.template(labels: ["app": "adopt"])
        let created = try await harness.jobs.create(spec)

        let adopted = try await harness.eventually("the adoption") {
            let pod = try await harness.pods.get("stray")
            return pod.metadata.controllerRef?.uid == created.metadata.uid && JobPods.hasTrackingFinalizer(pod)
                ? pod : nil
        }
        try await harness.setPhase(adopted.metadata.name ?? "", "Succeeded", exitCode: 0)
        let done = try await condition(harness, "adopter", "Complete")
        XCTAssertEqual(done.status.succeeded, 1)
        let all = try await harness.pods.list().items
        XCTAssertEqual(all.compactMap(\.metadata.name), ["stray"], "the adopted pod was enough")
        await harness.stop()
    }

    func testASuspendedJobRunsNothingUntilResumed() async throws {
        let harness = try await BatchTestHarness(prefix: "job-suspend")
        try await harness.run(try JobController(context: try harness.context()))
        var spec = job("paused", completions: 2, parallelism: 2)
        spec.spec.suspend = true
        let created = try await harness.jobs.create(spec)
        let suspended = try await condition(harness, "paused", "Suspended")
        XCTAssertNil(suspended.status.startTime)
        let none = try await pods(harness, of: created)
        XCTAssertEqual(none.count, 0)

        var resumed = try await harness.jobs.get("paused")
        resumed.spec.suspend = false
        _ = try await harness.jobs.update(resumed)
        _ = try await harness.eventually("two pods after resuming") {
            try await pods(harness, of: created).count == 2 ? true : nil
        }
        let running = try await harness.eventually("the Suspended condition cleared") {
            let job = try await harness.jobs.get("paused")
            let condition = job.status.conditions.first { $0.type == "Suspended" }
            return condition?.status == "False" ? job : nil
        }
        XCTAssertEqual(running.status.conditions.first { $0.type == "Suspended" }?.reason, "JobResumed")
        XCTAssertNotNil(running.status.startTime)
        let reasons = try await harness.eventReasons(about: "paused")
        XCTAssertTrue(reasons.contains("Suspended"), "\(reasons)")
        await harness.stop()
    }
}

import APIMachinery
import Client
import XCTest

@testable import ControllerManager

final class JobLogicTests: XCTestCase {
    func testBackoffDoublesFromTenSecondsToSixMinutes() {
        let expected: [(Int, Duration)] = [
            (0, .zero), (1, .seconds(10)), (2, .seconds(20)), (3, .seconds(40)), (4, .seconds(80)),
            (5, .seconds(160)), (6, .seconds(320)), (7, .seconds(360)), (100, .seconds(360)),
        ]
        for (failures, delay) in expected {
            XCTAssertEqual(JobBackoff.delay(failures: failures), delay, "\(failures) failures")
        }
    }

    func testBackoffCountsFromTheLastFailureAndResetsOnSuccess() {
        let now: Int64 = 1_000
        XCTAssertEqual(JobBackoff(failuresAfterLastSuccess: 2, lastFailure: now - 5).remaining(now: now), .seconds(15))
        XCTAssertEqual(JobBackoff(failuresAfterLastSuccess: 1, lastFailure: now - 20).remaining(now: now), .zero)
        XCTAssertEqual(JobBackoff().remaining(now: now), .zero)

        let failing = JobBackoff().adding(succeeded: 0, failedAt: [now - 3, now - 1])
        XCTAssertEqual(failing, JobBackoff(failuresAfterLastSuccess: 2, lastFailure: now - 1))
        XCTAssertEqual(failing.adding(succeeded: 0, failedAt: []), failing)
        XCTAssertEqual(failing.adding(succeeded: 1, failedAt: []).remaining(now: now), .zero)
    }

    func testCompletedIndexesReadAndWriteUpstreamsIntervals() {
        var indexes = CompletionIndexes(parsing: "0,2-4,7,x,9-8", completions: 6)
        XCTAssertEqual(indexes.description, "0,2-4")
        XCTAssertEqual(indexes.total, 4)
        XCTAssertFalse(indexes.contains(1))
        indexes.insert(1)
        XCTAssertEqual(indexes.description, "0-4")
        indexes.insert(5)
        indexes.insert(5)
        XCTAssertEqual(indexes.description, "0-5")
        XCTAssertEqual(CompletionIndexes([9, 3, 4, 1]).description, "1,3-4,9")
        XCTAssertEqual(CompletionIndexes(parsing: "3-10", completions: 5).description, "3-4")
    }

    func testPendingIndexesSkipSucceededAndRunningOnes() {
        let running = pod("a", index: 1)
        let pending = JobPods.pendingIndexes(
            count: 2, completions: 5, succeeded: CompletionIndexes([0, 2]), active: [running])
        XCTAssertEqual(pending, [3, 4])
        XCTAssertEqual(
            JobPods.pendingIndexes(count: 9, completions: 3, succeeded: CompletionIndexes(), active: []), [0, 1, 2])
    }

    func testDuplicatedAndInvalidIndexesAreRemovedKeepingTheMostAdvancedPod() {
        var running = pod("running", index: 0)
        running.status.phase = "Running"
        running.spec.nodeName = "node-1"
        let pendingTwin = pod("pending", index: 0)
        let outOfRange = pod("far", index: 7)
        let unindexed = pod("none", index: nil)
        let removed = JobPods.duplicatedIndexPods(
            [running, pendingTwin, outOfRange, unindexed, pod("ok", index: 1)], completions: 3)
        XCTAssertEqual(Set(removed.compactMap(\.metadata.name)), ["pending", "far", "none"])
    }

    func testDeletionOrderPrefersUnscheduledPendingUnreadyNewerPods() {
        var ready = pod("ready", index: nil, created: 10)
        ready.spec.nodeName = "n"
        ready.status.phase = "Running"
        ready.status.conditions = [PodCondition(type: "Ready", status: "True")]
        var running = pod("running", index: nil, created: 10)
        running.spec.nodeName = "n"
        running.status.phase = "Running"
        var scheduled = pod("scheduled", index: nil, created: 10)
        scheduled.spec.nodeName = "n"
        let older = pod("older", index: nil, created: 5)
        let newer = pod("newer", index: nil, created: 20)
        let order = JobPods.deletionOrder([ready, running, scheduled, older, newer]).compactMap(\.metadata.name)
        XCTAssertEqual(order, ["newer", "older", "scheduled", "running", "ready"])
    }

    func testPodFailurePolicyRulesDecideInOrder() {
        let policy = PodFailurePolicy(rules: [
            PodFailurePolicyRule(
                action: "FailJob",
                onExitCodes: PodFailurePolicyOnExitCodesRequirement(operator: "In", values: [42], containerName: "main")
            ),
            PodFailurePolicyRule(
                action: "Ignore",
                onPodConditions: [PodFailurePolicyOnPodConditionsPattern(type: "DisruptionTarget", status: "True")]),
            PodFailurePolicyRule(
                action: "Count", onExitCodes: PodFailurePolicyOnExitCodesRequirement(operator: "NotIn", values: [1])),
        ])
        let fatal = PodFailureVerdict(policy: policy, pod: failed("p", exitCode: 42))
        XCTAssertEqual(
            fatal.failJobMessage,
            "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 0")
        XCTAssertTrue(fatal.countsFailure)

        var disrupted = failed("d", exitCode: 1)
        disrupted.status.conditions = [PodCondition(type: "DisruptionTarget", status: "True")]
        let ignored = PodFailureVerdict(policy: policy, pod: disrupted)
        XCTAssertNil(ignored.failJobMessage)
        XCTAssertFalse(ignored.countsFailure)
        XCTAssertEqual(ignored.action, "Ignore")

        let counted = PodFailureVerdict(policy: policy, pod: failed("c", exitCode: 3))
        XCTAssertEqual(counted.action, "Count")
        XCTAssertTrue(counted.countsFailure)

        // Exit code 1 is excluded by NotIn, and 0 never matches: no rule, so the failure counts.
        let unmatched = PodFailureVerdict(policy: policy, pod: failed("u", exitCode: 1))
        XCTAssertNil(unmatched.action)
        XCTAssertTrue(unmatched.countsFailure)
    }

    func testADeletedPodCountsAsFailedUnlessOnlyFailedPodsAreReplaced() {
        var deleting = pod("x", index: nil)
        deleting.metadata.deletionTimestamp = "2024-01-01T00:00:00Z"
        var job = Job()
        XCTAssertTrue(JobPods.isFailed(deleting, job: job))
        XCTAssertTrue(JobPods.isTerminating(deleting))
        XCTAssertFalse(JobPods.isActive(deleting))
        job.spec.podReplacementPolicy = "Failed"
        XCTAssertFalse(JobPods.isFailed(deleting, job: job))
    }

    func testIndexedPodsGetTheirIndexHostnameAndEnvironment() throws {
        var job = Job()
        job.metadata.name = String(repeating: "j", count: 70)
        job.metadata.namespace = "ns"
        job.metadata.uid = "uid-1"
        job.spec.completionMode = "Indexed"
        job.spec.template = BatchTestHarness.template()
        let pod = JobController.pod(for: job, index: 3)
        XCTAssertEqual(pod.metadata.annotations[JobPods.completionIndexKey], "3")
        XCTAssertEqual(pod.metadata.labels[JobPods.completionIndexKey], "3")
        XCTAssertEqual(pod.metadata.labels[JobPods.controllerUIDLabel], "uid-1")
        XCTAssertEqual(pod.metadata.labels["job-name"], job.metadata.name)
        XCTAssertEqual(pod.metadata.finalizers, [JobPods.trackingFinalizer])
        XCTAssertEqual(pod.spec.hostname, "\(job.metadata.name ?? "")-3")
        XCTAssertEqual(pod.metadata.generateName, String(repeating: "j", count: 55) + "-3-")
        let variable = try XCTUnwrap(pod.spec.containers.first?.env.first)
        XCTAssertEqual(variable.name, "JOB_COMPLETION_INDEX")
        XCTAssertEqual(
            variable.valueFrom?.fieldRef?.fieldPath, "metadata.annotations['batch.kubernetes.io/job-completion-index']")
        XCTAssertEqual(pod.metadata.controllerRef?.uid, "uid-1")
    }

    func testUncountedPodsMoveIntoTheCountersOnceTheirFinalizerIsGone() {
        var status = JobStatus(succeeded: 1)
        status.uncountedTerminatedPods = UncountedTerminatedPods(failed: ["f1", "f2"], succeeded: ["s1"])
        XCTAssertTrue(JobController.countRemoved(&status, withFinalizer: ["f2"]))
        XCTAssertEqual(status.succeeded, 2)
        XCTAssertEqual(status.failed, 1)
        XCTAssertEqual(status.uncountedTerminatedPods?.failed, ["f2"])
        XCTAssertEqual(status.uncountedTerminatedPods?.succeeded, [])
        XCTAssertFalse(JobController.countRemoved(&status, withFinalizer: ["f2"]))
    }

    private func pod(_ name: String, index: Int?, created: Int64 = 0) -> Pod {
        var pod = Pod()
        pod.metadata.name = name
        pod.metadata.namespace = "ns"
        pod.metadata.creationTimestamp = Timestamp.format(epochSeconds: 1_700_000_000 + created)
        if let index { pod.metadata.annotations[JobPods.completionIndexKey] = String(index) }
        pod.status.phase = "Pending"
        return pod
    }

    private func failed(_ name: String, exitCode: Int32) -> Pod {
        var pod = pod(name, index: nil)
        pod.status.phase = "Failed"
        pod.status.containerStatuses = [
            ContainerStatus(
                name: "main", state: ContainerState(terminated: ContainerStateTerminated(exitCode: exitCode)))
        ]
        return pod
    }
}

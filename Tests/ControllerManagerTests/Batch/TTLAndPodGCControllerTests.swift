import APIMachinery
import Client
import Foundation
import XCTest

@testable import ControllerManager

final class TTLAfterFinishedControllerTests: XCTestCase {
    func testAFinishedJobIsDeletedOnceItsTTLPasses() async throws {
        let harness = try await BatchTestHarness(prefix: "ttl")
        let controller = try TTLAfterFinishedController(context: try harness.context())
        try await harness.run(controller)
        var job = Job()
        job.metadata.name = "short-lived"
        job.spec.ttlSecondsAfterFinished = 30
        job.spec.template = BatchTestHarness.template()
        var created = try await harness.jobs.create(job)
        let finishedAt = Timestamp.format(epochSeconds: Int64(harness.time.wallNow.timeIntervalSince1970))
        created.status.conditions = [JobCondition(type: "Complete", status: "True", lastTransitionTime: finishedAt)]
        created.status.completionTime = finishedAt
        _ = try await harness.jobs.updateStatus(created)

        // Not before the TTL.
        harness.time.advance(by: .seconds(20))
        try await Task.sleep(for: .milliseconds(300))
        let early = try await harness.jobs.get("short-lived")
        XCTAssertFalse(early.metadata.isDeleting)

        _ = try await harness.eventually("the Job's deletion", advance: .seconds(5)) { () -> Bool? in
            do {
                return try await harness.jobs.get("short-lived").metadata.isDeleting ? true : nil
            } catch let error as StatusError where error.code == 404 {
                return true
            }
        }
        await harness.stop()
    }

    func testExpiryIsTheFinishTimePlusTheTTL() {
        var job = Job()
        XCTAssertNil(TTLAfterFinishedController.expiry(of: job))
        job.spec.ttlSecondsAfterFinished = 100
        XCTAssertNil(TTLAfterFinishedController.expiry(of: job))
        job.status.conditions = [
            JobCondition(type: "Failed", status: "True", lastTransitionTime: "2024-01-01T00:00:00Z")
        ]
        XCTAssertEqual(TTLAfterFinishedController.expiry(of: job)?.timeIntervalSince1970, 1_704_067_300)
    }
}

final class PodGCControllerTests: XCTestCase {
    private func pod(_ name: String, node: String? = nil) -> Pod {
        var pod = Pod()
        pod.metadata.name = name
        pod.spec = BatchTestHarness.template().spec ?? PodSpec()
        pod.spec.nodeName = node
        return pod
    }

    func testPodsOfADeletedNodeAreCollectedAfterTheQuarantine() async throws {
        let harness = try await BatchTestHarness(prefix: "podgc-orphans")
        let ghost = "ghost-\(harness.namespace)"
        _ = try await harness.pods.create(pod("stranded", node: ghost))
        _ = try await harness.pods.create(pod("unbound"))
        let controller = try PodGCController(context: try harness.context())
        try await harness.run(controller)

        // Within the 40 s quarantine the pod stays.
        _ = try await harness.eventually("the first pass to note the missing node") {
            controller.missingNodes.withLockedValue { $0[ghost] } != nil ? true : nil
        }
        harness.time.advance(by: .seconds(20))
        try await Task.sleep(for: .milliseconds(200))
        let stranded = try await harness.pods.get("stranded")
        XCTAssertEqual(stranded.status.phase, "Pending")

        _ = try await harness.eventually("the orphaned pod's deletion", advance: .seconds(20)) { () -> Bool? in
            do {
                _ = try await harness.pods.get("stranded")
                return nil
            } catch let error as StatusError where error.code == 404 {
                return true
            }
        }
        let unbound = try await harness.pods.get("unbound")
        XCTAssertFalse(unbound.metadata.isDeleting)
        await harness.stop()
    }

    func testTerminatedPodsOverTheThresholdGoOldestFirst() async throws {
        let harness = try await BatchTestHarness(prefix: "podgc-threshold")
        for name in ["a", "b", "c"] {
            _ = try await harness.pods.create(pod(name))
            try await harness.setPhase(name, "Succeeded", exitCode: 0)
        }
        _ = try await harness.pods.create(pod("running"))
        let controller = try PodGCController(context: try harness.context(["--terminated-pod-gc-threshold=1"]))
        try await harness.run(controller)
        let names = try await harness.eventually("two terminated pods collected") {
            let names = try await harness.pods.list().items.compactMap(\.metadata.name).sorted()
            return names.count == 2 ? names : nil
        }
        XCTAssertEqual(names, ["c", "running"])
        await harness.stop()
    }

    func testCollectionOrderPutsEvictedThenOldestFirst() {
        var evicted = pod("evicted")
        evicted.metadata.creationTimestamp = "2024-01-03T00:00:00Z"
        evicted.status.reason = "Evicted"
        var old = pod("old")
        old.metadata.creationTimestamp = "2024-01-01T00:00:00Z"
        var new = pod("new")
        new.metadata.creationTimestamp = "2024-01-02T00:00:00Z"
        XCTAssertEqual(
            PodGCController.collectionOrder([new, old, evicted]).compactMap(\.metadata.name), ["evicted", "old", "new"])
    }
}

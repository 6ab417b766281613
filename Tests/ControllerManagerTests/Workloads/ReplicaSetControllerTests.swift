import APIMachinery
import Client
import XCTest

@testable import ControllerManager

final class ReplicaSetControllerTests: XCTestCase {
    private func replicaSet(_ name: String, replicas: Int32) -> ReplicaSet {
        var replicaSet = ReplicaSet()
        replicaSet.metadata.name = name
        replicaSet.spec = ReplicaSetSpec(
            selector: MetaLabelSelector(matchLabels: ["app": name]), replicas: replicas,
            template: WorkloadTestHarness.template(app: name))
        return replicaSet
    }

    func testCreatesReplicasOwnedByItAndReportsStatus() async throws {
        let harness = try await WorkloadTestHarness(prefix: "rs-create")
        try await harness.start()
        let created = try await harness.replicaSets.create(replicaSet("web", replicas: 3))
        let pods = try await harness.eventually("three pods") {
            let pods = try await harness.livePods()
            return pods.count == 3 ? pods : nil
        }
        for pod in pods {
            XCTAssertEqual(pod.metadata.controllerRef?.uid, created.metadata.uid)
            XCTAssertEqual(pod.metadata.controllerRef?.kind, "ReplicaSet")
            XCTAssertEqual(pod.metadata.labels["app"], "web")
            XCTAssertTrue(pod.metadata.name?.hasPrefix("web-") ?? false)
        }
        try await harness.markReady(pods[0].metadata.name ?? "")
        try await harness.markReady(pods[1].metadata.name ?? "")
        let status = try await harness.eventually("two ready replicas in status") {
            let status = try await harness.replicaSets.get("web").status
            return status.readyReplicas == 2 ? status : nil
        }
        XCTAssertEqual(status.replicas, 3)
        XCTAssertEqual(status.fullyLabeledReplicas, 3)
        XCTAssertEqual(status.availableReplicas, 2)
        XCTAssertEqual(status.observedGeneration, created.metadata.generation)
        let notes = try await harness.eventually("SuccessfulCreate events") {
            let notes = try await harness.events(about: "web", reason: "SuccessfulCreate")
            return notes.isEmpty ? nil : notes
        }
        XCTAssertTrue(notes.allSatisfy { $0.hasPrefix("Created pod: web-") }, "\(notes)")
        // No more pods than asked for once the watch has caught up.
        try await Task.sleep(for: .milliseconds(300))
        let settled = try await harness.livePods()
        XCTAssertEqual(settled.count, 3)
        await harness.stop()
    }

    func testScaleDownDeletesTheCheapestPodsFirst() async throws {
        let harness = try await WorkloadTestHarness(prefix: "rs-scale")
        try await harness.start()
        _ = try await harness.replicaSets.create(replicaSet("web", replicas: 3))
        let pods = try await harness.eventually("three pods") {
            let pods = try await harness.livePods()
            return pods.count == 3 ? pods : nil
        }
        let names = pods.compactMap(\.metadata.name).sorted()
        // names[0] stays not ready; names[1] is ready but cheap to delete; names[2] is ready and kept.
        try await harness.markReady(names[1])
        try await harness.markReady(names[2])
        _ = try await harness.pods.patch(
            names[1], ["metadata": ["annotations": [PodDeletionRanking.deletionCostAnnotation: "-10"]]])
        _ = try await harness.eventually("two ready replicas") {
            try await harness.replicaSets.get("web").status.readyReplicas == 2 ? true : nil
        }
        _ = try await harness.replicaSets.patch("web", ["spec": ["replicas": 1]])
        let remaining = try await harness.eventually("one pod left") {
            let pods = try await harness.livePods()
            return pods.count == 1 ? pods : nil
        }
        XCTAssertEqual(remaining.first?.metadata.name, names[2])
        let deleted = try await harness.eventually("SuccessfulDelete events") {
            let notes = try await harness.events(about: "web", reason: "SuccessfulDelete")
            return notes.count == 2 ? notes : nil
        }
        XCTAssertEqual(Set(deleted), ["Deleted pod: \(names[0])", "Deleted pod: \(names[1])"])
        await harness.stop()
    }

    func testAdoptsAMatchingOrphanInsteadOfCreatingAndReleasesAPodThatStopsMatching() async throws {
        let harness = try await WorkloadTestHarness(prefix: "rs-adopt")
        var orphan = Pod()
        orphan.metadata.name = "orphan"
        orphan.metadata.labels = ["app": "web"]
        orphan.spec = WorkloadTestHarness.template(app: "web").spec ?? PodSpec()
        _ = try await harness.pods.create(orphan)
        try await harness.start()
        let created = try await harness.replicaSets.create(replicaSet("web", replicas: 2))
        let pods = try await harness.eventually("two owned pods") {
            let pods = try await harness.livePods()
            let owned = pods.filter { $0.metadata.controllerRef?.uid == created.metadata.uid }
            return pods.count == 2 && owned.count == 2 ? pods : nil
        }
        XCTAssertTrue(pods.contains { $0.metadata.name == "orphan" })

        // Relabelled, the pod is released and replaced.
        _ = try await harness.pods.patch("orphan", ["metadata": ["labels": ["app": "other"]]])
        _ = try await harness.eventually("the orphan released and replaced") {
            let pods = try await harness.livePods()
            let released = pods.first { $0.metadata.name == "orphan" }
            let owned = pods.filter { $0.metadata.controllerRef?.uid == created.metadata.uid }
            return released?.metadata.controllerRef == nil && owned.count == 2 ? true : nil
        }
        await harness.stop()
    }

    func testReplicationControllerSelectsByItsLabelMap() async throws {
        let harness = try await WorkloadTestHarness(prefix: "rc")
        try await harness.start()
        var controller = ReplicationController()
        controller.metadata.name = "legacy"
        controller.spec.replicas = 2
        controller.spec.selector = ["app": "legacy"]
        controller.spec.template = WorkloadTestHarness.template(app: "legacy")
        let created = try await harness.replicationControllers.create(controller)
        let pods = try await harness.eventually("two pods") {
            let pods = try await harness.livePods()
            return pods.count == 2 ? pods : nil
        }
        XCTAssertTrue(pods.allSatisfy { $0.metadata.controllerRef?.kind == "ReplicationController" })
        XCTAssertTrue(pods.allSatisfy { $0.metadata.controllerRef?.uid == created.metadata.uid })
        _ = try await harness.eventually("status replicas 2") {
            try await harness.replicationControllers.get("legacy").status.replicas == 2 ? true : nil
        }
        await harness.stop()
    }

    func testAQuotaRefusalSetsReplicaFailureAndRecordsFailedCreate() async throws {
        let harness = try await WorkloadTestHarness(prefix: "rs-quota")
        _ = try await harness.client.postJSON(
            path: "/api/v1/namespaces/\(harness.namespace)/resourcequotas",
            [
                "apiVersion": "v1", "kind": "ResourceQuota", "metadata": ["name": "pods"],
                "spec": ["hard": ["pods": "1"]],
            ])
        try await harness.start()
        _ = try await harness.replicaSets.create(replicaSet("web", replicas: 3))
        let failure = try await harness.eventually("the ReplicaFailure condition") {
            try await harness.replicaSets.get("web").failure
        }
        XCTAssertEqual(failure.reason, "FailedCreate")
        XCTAssertTrue(failure.message.contains("exceeded quota"), failure.message)
        let notes = try await harness.eventually("a FailedCreate event") {
            let notes = try await harness.events(about: "web", reason: "FailedCreate")
            return notes.isEmpty ? nil : notes
        }
        XCTAssertTrue(notes[0].hasPrefix("Error creating: "), notes[0])
        let pods = try await harness.livePods()
        XCTAssertEqual(pods.count, 1)
        await harness.stop()
    }
}

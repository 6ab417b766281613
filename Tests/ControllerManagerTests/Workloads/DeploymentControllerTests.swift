import APIMachinery
import Client
import NIOConcurrencyHelpers
import XCTest

@testable import ControllerManager

final class DeploymentControllerTests: XCTestCase {
    private func deployment(
        _ name: String, replicas: Int32, strategy: DeploymentStrategy? = nil, paused: Bool? = nil
    ) -> Deployment {
        var deployment = Deployment()
        deployment.metadata.name = name
        deployment.spec = DeploymentSpec(
            selector: MetaLabelSelector(matchLabels: ["app": name]),
            template: WorkloadTestHarness.template(app: name), paused: paused, replicas: replicas, strategy: strategy)
        return deployment
    }

    private func setImage(_ harness: WorkloadTestHarness, _ name: String, _ image: String) async throws {
        _ = try await harness.deployments.patch(
            name, ["spec": ["template": ["spec": ["containers": [["name": "web", "image": .string(image)]]]]]],
            type: .strategicMerge)
    }

    /// The rollout is finished as `kubectl rollout status` judges it.
    private func rolledOut(_ harness: WorkloadTestHarness, _ name: String) async throws -> Deployment? {
        let deployment = try await harness.deployments.get(name)
        let status = deployment.status
        let desired = deployment.spec.replicas ?? 1
        guard status.observedGeneration ?? 0 >= deployment.metadata.generation ?? 0,
            status.updatedReplicas == desired, status.replicas == desired, status.availableReplicas == desired
        else { return nil }
        return deployment
    }

    func testCreatesItsReplicaSetAndReportsTheRolloutComplete() async throws {
        let harness = try await WorkloadTestHarness(prefix: "deploy-create")
        try await harness.start()
        harness.startKubelet()
        let created = try await harness.deployments.create(deployment("web", replicas: 3))
        let replicaSet = try await harness.eventually("the ReplicaSet") {
            try await harness.replicaSets.list().items.first
        }
        let hash = PodTemplateHash.compute(created.spec.template ?? PodTemplateSpec(), collisionCount: nil)
        XCTAssertEqual(replicaSet.metadata.name, "web-\(hash)")
        XCTAssertEqual(replicaSet.metadata.labels[PodTemplateHash.labelKey], hash)
        XCTAssertEqual(replicaSet.spec.selector?.matchLabels, ["app": "web", PodTemplateHash.labelKey: hash])
        XCTAssertEqual(replicaSet.spec.template?.metadata?.labels[PodTemplateHash.labelKey], hash)
        XCTAssertEqual(replicaSet.metadata.controllerRef?.uid, created.metadata.uid)
        XCTAssertEqual(replicaSet.metadata.annotations[DeploymentRules.revisionAnnotation], "1")
        XCTAssertEqual(replicaSet.metadata.annotations[DeploymentRules.desiredReplicasAnnotation], "3")
        XCTAssertEqual(replicaSet.metadata.annotations[DeploymentRules.maxReplicasAnnotation], "4")

        let done = try await harness.eventually("the rollout to complete") {
            let done = try await rolledOut(harness, "web")
            return done?.status.conditions.contains { $0.reason == "NewReplicaSetAvailable" } == true ? done : nil
        }
        XCTAssertEqual(done.status.readyReplicas, 3)
        XCTAssertEqual(done.status.unavailableReplicas ?? 0, 0)
        XCTAssertEqual(done.metadata.annotations[DeploymentRules.revisionAnnotation], "1")
        let available = done.status.conditions.first { $0.type == "Available" }
        XCTAssertEqual(available?.status, "True")
        XCTAssertEqual(available?.reason, "MinimumReplicasAvailable")
        let progressing = done.status.conditions.first { $0.type == "Progressing" }
        XCTAssertEqual(
            progressing?.message, "ReplicaSet \"\(replicaSet.metadata.name ?? "")\" has successfully progressed.")
        let notes = try await harness.eventually("the scaling event") {
            let notes = try await harness.events(about: "web", reason: "ScalingReplicaSet")
            return notes.isEmpty ? nil : notes
        }
        XCTAssertEqual(notes, ["Scaled up replica set \(replicaSet.metadata.name ?? "") from 0 to 3"])

        // Scaling only resizes the ReplicaSet.
        _ = try await harness.deployments.patch("web", ["spec": ["replicas": 5]])
        _ = try await harness.eventually("five replicas") {
            let sets = try await harness.replicaSets.list().items
            return sets.count == 1 && sets[0].spec.replicas == 5 ? true : nil
        }
        await harness.stop()
    }

    func testAnImageChangeRollsWithinMaxSurgeAndMaxUnavailable() async throws {
        let harness = try await WorkloadTestHarness(prefix: "deploy-roll")
        try await harness.start()
        harness.startKubelet()
        let strategy = DeploymentStrategy(
            rollingUpdate: RollingUpdateDeployment(maxSurge: .int(1), maxUnavailable: .int(1)), type: "RollingUpdate")
        _ = try await harness.deployments.create(deployment("web", replicas: 4, strategy: strategy))
        _ = try await harness.eventually("the first rollout") { try await rolledOut(harness, "web") }

        // Watch the ReplicaSets' sizes during the rollout: never above 4 + 1 pods, never below 4 - 1 available.
        let violations = NIOLockedValueBox<[String]>([])
        let watcher = Task {
            while !Task.isCancelled {
                if let sets = try? await harness.replicaSets.list().items {
                    let total = sets.reduce(0) { $0 + ($1.spec.replicas ?? 0) }
                    if total > 5 {
                        let sizes = sets.map { "\($0.metadata.name ?? "")=\($0.spec.replicas ?? 0)" }
                        violations.withLockedValue { $0.append("\(total) replicas: \(sizes)") }
                    }
                }
                if let pods = try? await harness.livePods() {
                    let available = pods.filter(PodAvailability.isReady).count
                    if available < 3 { violations.withLockedValue { $0.append("\(available) available") } }
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        try await setImage(harness, "web", "nginx:2")
        let done = try await harness.eventually("the second rollout") {
            let done = try await rolledOut(harness, "web")
            return done?.metadata.annotations[DeploymentRules.revisionAnnotation] == "2" ? done : nil
        }
        watcher.cancel()
        await watcher.value
        XCTAssertEqual(violations.withLockedValue { $0 }, [])
        XCTAssertEqual(done.status.updatedReplicas, 4)
        let sets = try await harness.replicaSets.list().items
        XCTAssertEqual(sets.count, 2)
        let new = sets.first { $0.spec.template?.spec?.containers.first?.image == "nginx:2" }
        XCTAssertEqual(new?.spec.replicas, 4)
        XCTAssertEqual(new?.metadata.annotations[DeploymentRules.revisionAnnotation], "2")
        let old = sets.first { $0.spec.template?.spec?.containers.first?.image == "nginx" }
        XCTAssertEqual(old?.spec.replicas, 0)
        let pods = try await harness.eventually("only new pods") {
            let pods = try await harness.livePods()
            return pods.count == 4 ? pods : nil
        }
        XCTAssertTrue(pods.allSatisfy { $0.spec.containers.first?.image == "nginx:2" })
        await harness.stop()
    }

    func testRolloutUndoReturnsToThePreviousReplicaSet() async throws {
        let harness = try await WorkloadTestHarness(prefix: "deploy-undo")
        try await harness.start()
        harness.startKubelet()
        _ = try await harness.deployments.create(deployment("web", replicas: 2))
        _ = try await harness.eventually("the first rollout") { try await rolledOut(harness, "web") }
        let first = try await harness.replicaSets.list().items[0]
        try await setImage(harness, "web", "nginx:broken")
        _ = try await harness.eventually("revision 2") {
            let done = try await rolledOut(harness, "web")
            return done?.metadata.annotations[DeploymentRules.revisionAnnotation] == "2" ? done : nil
        }

        // As kubectl rollout undo does it: revision 1's template, without its hash label, patched in.
        var template = first.spec.template ?? PodTemplateSpec()
        template.metadata?.labels[PodTemplateHash.labelKey] = nil
        _ = try await harness.deployments.patch("web", ["spec": ["template": template.toJSON()]])
        let done = try await harness.eventually("revision 3") {
            let done = try await rolledOut(harness, "web")
            return done?.metadata.annotations[DeploymentRules.revisionAnnotation] == "3" ? done : nil
        }
        XCTAssertEqual(done.spec.template?.spec?.containers.first?.image, "nginx")
        let sets = try await harness.replicaSets.list().items
        XCTAssertEqual(sets.count, 2, "the old ReplicaSet is reused, not a new one made")
        let reused = sets.first { $0.metadata.uid == first.metadata.uid }
        XCTAssertEqual(reused?.spec.replicas, 2)
        XCTAssertEqual(reused?.metadata.annotations[DeploymentRules.revisionAnnotation], "3")
        XCTAssertEqual(reused?.metadata.annotations[DeploymentRules.revisionHistoryAnnotation], "1")

        // The deprecated rollback request goes back to the last revision (2) and is cleared.
        _ = try await harness.deployments.patch(
            "web", ["metadata": ["annotations": [DeploymentRules.rollbackToAnnotation: "0"]]])
        let rolledBack = try await harness.eventually("the rollback to revision 2") {
            let deployment = try await harness.deployments.get("web")
            let image = deployment.spec.template?.spec?.containers.first?.image
            return image == "nginx:broken" ? deployment : nil
        }
        XCTAssertNil(rolledBack.metadata.annotations[DeploymentRules.rollbackToAnnotation])
        let notes = try await harness.eventually("the rollback event") {
            let notes = try await harness.events(about: "web", reason: "DeploymentRollback")
            return notes.isEmpty ? nil : notes
        }
        XCTAssertEqual(notes, ["Rolled back deployment \"web\" to revision 2"])
        await harness.stop()
    }

    func testRecreateRemovesEveryOldPodBeforeTheNewOnesStart() async throws {
        let harness = try await WorkloadTestHarness(prefix: "deploy-recreate")
        try await harness.start()
        harness.startKubelet()
        _ = try await harness.deployments.create(
            deployment("web", replicas: 3, strategy: DeploymentStrategy(type: "Recreate")))
        _ = try await harness.eventually("the first rollout") { try await rolledOut(harness, "web") }

        let overlaps = NIOLockedValueBox(0)
        let watcher = Task {
            while !Task.isCancelled {
                if let pods = try? await harness.livePods() {
                    let images = Set(pods.compactMap { $0.spec.containers.first?.image })
                    if images.count > 1 { overlaps.withLockedValue { $0 += 1 } }
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        try await setImage(harness, "web", "nginx:2")
        _ = try await harness.eventually("the second rollout") {
            let done = try await rolledOut(harness, "web")
            return done?.metadata.annotations[DeploymentRules.revisionAnnotation] == "2" ? done : nil
        }
        watcher.cancel()
        await watcher.value
        XCTAssertEqual(overlaps.withLockedValue { $0 }, 0, "old and new pods ran together")
        let sets = try await harness.replicaSets.list().items
        XCTAssertEqual(sets.map { $0.spec.replicas ?? 0 }.sorted(), [0, 3])
        await harness.stop()
    }

    func testAPausedDeploymentDoesNotRollUntilResumed() async throws {
        let harness = try await WorkloadTestHarness(prefix: "deploy-pause")
        try await harness.start()
        harness.startKubelet()
        _ = try await harness.deployments.create(deployment("web", replicas: 2))
        _ = try await harness.eventually("the first rollout") { try await rolledOut(harness, "web") }
        _ = try await harness.deployments.patch("web", ["spec": ["paused": true]])
        try await setImage(harness, "web", "nginx:2")
        let paused = try await harness.eventually("the paused condition for the new generation") {
            let deployment = try await harness.deployments.get("web")
            let progressing = deployment.status.conditions.first { $0.type == "Progressing" }
            return deployment.status.observedGeneration == deployment.metadata.generation
                && progressing?.reason == "DeploymentPaused" ? deployment : nil
        }
        XCTAssertEqual(paused.status.conditions.first { $0.type == "Progressing" }?.status, "Unknown")
        let whilePaused = try await harness.replicaSets.list().items
        XCTAssertEqual(whilePaused.count, 1, "a paused deployment made a ReplicaSet")

        _ = try await harness.deployments.patch("web", ["spec": ["paused": false]])
        _ = try await harness.eventually("the rollout after resuming") {
            let done = try await rolledOut(harness, "web")
            return done?.metadata.annotations[DeploymentRules.revisionAnnotation] == "2" ? done : nil
        }
        let afterResuming = try await harness.replicaSets.list().items
        XCTAssertEqual(afterResuming.count, 2)
        await harness.stop()
    }

    func testARolloutThatStallsPastItsDeadlineReportsProgressDeadlineExceeded() async throws {
        let harness = try await WorkloadTestHarness(prefix: "deploy-deadline")
        try await harness.start()
        // No kubelet: the pods never become ready.
        var stalled = deployment("web", replicas: 2)
        stalled.spec.progressDeadlineSeconds = 1
        _ = try await harness.deployments.create(stalled)
        let timedOut = try await harness.eventually("ProgressDeadlineExceeded") {
            let deployment = try await harness.deployments.get("web")
            let progressing = deployment.status.conditions.first { $0.type == "Progressing" }
            return progressing?.reason == "ProgressDeadlineExceeded" ? deployment : nil
        }
        let replicaSet = try await harness.replicaSets.list().items.first
        let progressing = timedOut.status.conditions.first { $0.type == "Progressing" }
        XCTAssertEqual(progressing?.status, "False")
        XCTAssertEqual(
            progressing?.message, "ReplicaSet \"\(replicaSet?.metadata.name ?? "")\" has timed out progressing.")
        let available = timedOut.status.conditions.first { $0.type == "Available" }
        XCTAssertEqual(available?.status, "False")
        XCTAssertEqual(available?.reason, "MinimumReplicasUnavailable")
        XCTAssertEqual(timedOut.status.unavailableReplicas, 2)
        await harness.stop()
    }
}

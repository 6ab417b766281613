import APIMachinery
import Client
import Foundation
import XCTest

@testable import ControllerManager

/// The disruption and resource quota controllers against the in-process API server.
final class PolicyControllersTests: XCTestCase {
    /// A ReplicaSet (no controller runs it) and `count` pods it controls, labelled `app=<app>`.
    private func replicaSet(
        _ bed: ControllerTestBed, app: String, replicas: Int32, pods count: Int
    ) async throws -> [Pod] {
        var replicaSet = ReplicaSet()
        replicaSet.metadata.name = app
        replicaSet.spec.replicas = replicas
        replicaSet.spec.selector = ControllerTestBed.selector(app: app)
        replicaSet.spec.template = ControllerTestBed.template(app: app)
        let created = try await bed.resource(ReplicaSet.self).create(replicaSet)
        var pods: [Pod] = []
        for index in 0..<count {
            var pod = PodControl.pod(
                from: ControllerTestBed.template(app: app), owner: created, name: "\(app)-\(index)")
            pod.metadata.generateName = nil
            pods.append(try await bed.pods.create(pod))
        }
        return pods
    }

    private func budget(
        _ name: String, app: String, minAvailable: IntOrString? = nil, maxUnavailable: IntOrString? = nil
    )
        -> PodDisruptionBudget
    {
        var budget = PodDisruptionBudget()
        budget.metadata.name = name
        budget.spec.selector = ControllerTestBed.selector(app: app)
        budget.spec.minAvailable = minAvailable
        budget.spec.maxUnavailable = maxUnavailable
        return budget
    }

    func testBudgetStatusFollowsReadyPodsAndControllerScale() async throws {
        let bed = try await ControllerTestBed(prefix: "pdb")
        let controller = DisruptionController(context: try bed.context())
        await bed.run([controller])
        do {
            let pods = try await replicaSet(bed, app: "web", replicas: 3, pods: 3)
            try await bed.markReady(pods[0].metadata.name ?? "")
            try await bed.markReady(pods[1].metadata.name ?? "")
            let budgets = bed.resource(PodDisruptionBudget.self)
            let created = try await budgets.create(budget("web", app: "web", minAvailable: "50%"))

            let blocked = try await bed.eventually("a status with two healthy pods") {
                let current = try await budgets.get("web")
                return current.status.currentHealthy == 2 ? current : nil
            }
            XCTAssertEqual(blocked.status.desiredHealthy, 2)
            XCTAssertEqual(blocked.status.expectedPods, 3)
            XCTAssertEqual(blocked.status.disruptionsAllowed, 0)
            XCTAssertEqual(blocked.status.observedGeneration, created.metadata.generation)
            let condition = blocked.status.conditions.first { $0.type == "DisruptionAllowed" }
            XCTAssertEqual(condition?.status, "False")
            XCTAssertEqual(condition?.reason, "InsufficientPods")

            try await bed.markReady(pods[2].metadata.name ?? "")
            let allowed = try await bed.eventually("one disruption allowed") {
                let current = try await budgets.get("web")
                return current.status.disruptionsAllowed == 1 ? current : nil
            }
            XCTAssertEqual(allowed.status.conditions.first { $0.type == "DisruptionAllowed" }?.reason, "SufficientPods")

            // A pod without a controller makes a maxUnavailable budget fail safe.
            var orphan = Pod(spec: PodSpec(containers: [Container(name: "main", image: "nginx")]))
            orphan.metadata.name = "orphan"
            orphan.metadata.labels = ["app": "solo"]
            _ = try await bed.pods.create(orphan)
            _ = try await budgets.create(budget("solo", app: "solo", maxUnavailable: 1))
            let failed = try await bed.eventually("the SyncFailed condition") {
                let current = try await budgets.get("solo")
                return current.status.conditions.first { $0.reason == "SyncFailed" } != nil ? current : nil
            }
            XCTAssertEqual(failed.status.disruptionsAllowed, 0)
            let notes = try await bed.eventually("the failure event") {
                let notes = try await bed.events(about: "solo", reason: "CalculateExpectedPodCountFailed")
                return notes.isEmpty ? nil : notes
            }
            XCTAssertTrue(notes[0].contains("orphan"), notes[0])
        } catch {
            await bed.stop()
            throw error
        }
        await bed.stop()
    }

    func testQuotaUsageIsMeasuredAndReplenished() async throws {
        let bed = try await ControllerTestBed(prefix: "quota")
        let controller = try ResourceQuotaController(
            context: try bed.context(flags: ["--resource-quota-sync-period=1h"]))
        await bed.run([controller])
        do {
            var quota = ResourceQuota()
            quota.metadata.name = "compute"
            quota.spec.hard = [
                "pods": Quantity(5), "requests.cpu": Quantity(2), "count/configmaps": Quantity(10),
                "count/deployments.apps": Quantity(3),
            ]
            let quotas = bed.resource(ResourceQuota.self)
            _ = try await quotas.create(quota)

            var spec = PodSpec(containers: [Container(name: "main", image: "nginx")])
            spec.containers[0].resources = ResourceRequirements(requests: ["cpu": try Quantity(json: "500m")])
            var pod = Pod(spec: spec)
            pod.metadata.name = "worker"
            _ = try await bed.pods.create(pod)
            var configMap = ConfigMap()
            configMap.metadata.name = "settings"
            _ = try await bed.resource(ConfigMap.self).create(configMap)
            let configMaps = try await bed.resource(ConfigMap.self).list().items.count

            let stored = try await bed.eventually("usage with the pod") {
                let current = try await quotas.get("compute")
                return current.status.used["pods"] == Quantity(1)
                    && current.status.used["count/configmaps"] == Quantity(Int64(configMaps)) ? current : nil
            }
            XCTAssertEqual(stored.status.hard, quota.spec.hard)
            XCTAssertEqual(stored.status.used["requests.cpu"], try Quantity(json: "500m"))
            XCTAssertEqual(stored.status.used["count/deployments.apps"], Quantity(0))

            // The controller's own measure, whoever wrote the status.
            let measured = try await controller.usage(of: stored)
            XCTAssertEqual(measured, stored.status.used)

            try await bed.pods.delete("worker", options: DeleteOptions(gracePeriodSeconds: 0))
            _ = try await bed.eventually("the pod's usage released") {
                let current = try await quotas.get("compute")
                return current.status.used["pods"] == Quantity(0) ? current : nil
            }

        } catch {
            await bed.stop()
            throw error
        }
        await bed.stop()
    }

    /// A kind counted without a typed informer (`count/configmaps`, `count/deployments.apps`) gets a metadata
    /// monitor, and deleting one of its objects releases the quota's usage, as upstream's quota monitor does.
    func testCountedKindsWithoutTypedInformersAreReplenishedOnDelete() async throws {
        let bed = try await ControllerTestBed(prefix: "quota-count")
        let controller = try ResourceQuotaController(
            context: try bed.context(flags: ["--resource-quota-sync-period=1h"]))
        await bed.run([controller])
        do {
            let configMaps = bed.resource(ConfigMap.self)
            var configMap = ConfigMap()
            configMap.metadata.name = "settings"
            _ = try await configMaps.create(configMap)
            let count = try await configMaps.list().items.count
            var quota = ResourceQuota()
            quota.metadata.name = "objects"
            quota.spec.hard = ["count/configmaps": Quantity(10), "count/deployments.apps": Quantity(3)]
            let quotas = bed.resource(ResourceQuota.self)
            _ = try await quotas.create(quota)
            _ = try await bed.eventually("the config maps counted") {
                let current = try await quotas.get("objects")
                return current.status.used["count/configmaps"] == Quantity(Int64(count)) ? current : nil
            }
            _ = try await bed.eventually("monitors of the counted kinds") {
                let monitored = controller.monitors.resources
                return monitored.contains(ConfigMap.resource) && monitored.contains(Deployment.resource) ? true : nil
            }
            XCTAssertFalse(controller.monitors.resources.contains(Pod.resource), "pods have their typed informer")

            try await configMaps.delete("settings")
            _ = try await bed.eventually("the config map's count released", timeout: 10) {
                let current = try await quotas.get("objects")
                return current.status.used["count/configmaps"] == Quantity(Int64(count - 1)) ? current : nil
            }
        } catch {
            await bed.stop()
            throw error
        }
        await bed.stop()
    }
}

import APIMachinery
import Client
import Foundation
import NIOConcurrencyHelpers
import XCTest

@testable import ControllerManager

/// A metrics source that reports the same usage for every pod it is asked about.
private final class FakeMetricsSource: MetricsSource {
    let usage = NIOLockedValueBox<Int64>(0)
    let pods: Lister<Pod>

    init(pods: Lister<Pod>) {
        self.pods = pods
    }

    func resourceMetrics(resource: String, namespace: String, selector: LabelSelector, container: String?)
        async throws -> (metrics: [String: PodMetric], timestamp: Date)
    {
        let value = usage.withLockedValue { $0 }
        let now = Date()
        var metrics: [String: PodMetric] = [:]
        for pod in pods.list(namespace: namespace, selector: selector) {
            metrics[pod.metadata.name ?? ""] = PodMetric(value: value, timestamp: now)
        }
        return (metrics, now)
    }
}

/// The autoscaler against the in-process API server, which serves no metrics API.
final class HorizontalPodAutoscalerControllerTests: XCTestCase {
    private func deployment(_ bed: ControllerTestBed, app: String, replicas: Int32) async throws {
        var deployment = Deployment()
        deployment.metadata.name = app
        deployment.spec.replicas = replicas
        deployment.spec.selector = ControllerTestBed.selector(app: app)
        var template = ControllerTestBed.template(app: app)
        template.spec?.containers[0].resources = ResourceRequirements(requests: ["cpu": try Quantity(parsing: "500m")])
        deployment.spec.template = template
        _ = try await bed.resource(Deployment.self).create(deployment)
    }

    private func autoscaler(_ bed: ControllerTestBed, app: String, min: Int32, max: Int32) async throws {
        var autoscaler = HorizontalPodAutoscaler()
        autoscaler.metadata.name = app
        autoscaler.spec.scaleTargetRef = CrossVersionObjectReference(
            kind: "Deployment", name: app, apiVersion: "apps/v1")
        autoscaler.spec.minReplicas = min
        autoscaler.spec.maxReplicas = max
        var target = MetricTarget(type: "Utilization")
        target.averageUtilization = 50
        autoscaler.spec.metrics = [
            MetricSpec(type: "Resource", resource: ResourceMetricSource(name: "cpu", target: target))
        ]
        _ = try await bed.resource(HorizontalPodAutoscaler.self).create(autoscaler)
    }

    /// Running, ready pods of `app` requesting 500m CPU each, started ten minutes ago.
    private func runningPods(_ bed: ControllerTestBed, app: String, count: Int) async throws {
        let started = Timestamp.format(epochSeconds: Int64(Date().timeIntervalSince1970) - 600)
        for index in 0..<count {
            var template = ControllerTestBed.template(app: app)
            template.spec?.containers[0].resources = ResourceRequirements(
                requests: ["cpu": try Quantity(parsing: "500m")])
            var pod = Pod(spec: template.spec ?? PodSpec())
            pod.metadata.name = "\(app)-\(index)"
            pod.metadata.labels = ["app": app]
            var created = try await bed.pods.create(pod)
            created.status.phase = "Running"
            created.status.startTime = started
            created.status.conditions = [PodCondition(type: "Ready", status: "True", lastTransitionTime: started)]
            _ = try await bed.pods.updateStatus(created)
        }
    }

    private func replicas(_ bed: ControllerTestBed, _ app: String, _ expected: Int32) async throws {
        _ = try await bed.eventually("\(app) scaled to \(expected)") {
            try await bed.resource(Deployment.self).get(app).spec.replicas == expected ? true : nil
        }
    }

    private func condition(_ autoscaler: HorizontalPodAutoscaler, _ type: String) -> HorizontalPodAutoscalerCondition? {
        autoscaler.status.conditions.first { $0.type == type }
    }

    func testScalesUpToTheMinimumAndReportsTheMissingMetricsAPI() async throws {
        let bed = try await ControllerTestBed(prefix: "hpa-min")
        let context = try bed.context(flags: ["--horizontal-pod-autoscaler-sync-period=1s"])
        await bed.run([try HorizontalPodAutoscalerController(context: context)])
        do {
            try await deployment(bed, app: "web", replicas: 1)
            try await autoscaler(bed, app: "web", min: 3, max: 5)
            try await replicas(bed, "web", 3)
            let rescaled = try await bed.eventually("a SuccessfulRescale event") {
                try await bed.events(about: "web", reason: "SuccessfulRescale").first
            }
            XCTAssertEqual(rescaled, "New size: 3; reason: Current number of replicas below Spec.MinReplicas")

            let autoscalers = bed.resource(HorizontalPodAutoscaler.self)
            let failing = try await bed.eventually("ScalingActive=False") {
                let current = try await autoscalers.get("web")
                return condition(current, "ScalingActive")?.status == "False" ? current : nil
            }
            let active = condition(failing, "ScalingActive")
            XCTAssertEqual(active?.reason, "FailedGetResourceMetric")
            let cause =
                "failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from "
                + "resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)"
            XCTAssertEqual(active?.message, "the HPA was unable to compute the replica count: \(cause)")
            XCTAssertEqual(condition(failing, "AbleToScale")?.reason, "SucceededGetScale")
            XCTAssertEqual(failing.status.currentReplicas, 3)
            XCTAssertNotNil(failing.status.lastScaleTime)
            let warning = try await bed.eventually("a FailedGetResourceMetric event") {
                try await bed.events(about: "web", reason: "FailedGetResourceMetric").first
            }
            XCTAssertEqual(warning, cause)
            try await replicas(bed, "web", 3)
        } catch {
            await bed.stop()
            throw error
        }
        await bed.stop()
    }

    func testScalesByUtilizationFromTheMetricsSource() async throws {
        let bed = try await ControllerTestBed(prefix: "hpa-cpu")
        let context = try bed.context(flags: ["--horizontal-pod-autoscaler-sync-period=1s"])
        let metrics = FakeMetricsSource(pods: bed.informers.lister(for: Pod.self))
        metrics.usage.withLockedValue { $0 = 500 }
        await bed.run([try HorizontalPodAutoscalerController(context: context, metrics: metrics)])
        do {
            try await deployment(bed, app: "api", replicas: 2)
            try await runningPods(bed, app: "api", count: 2)
            try await autoscaler(bed, app: "api", min: 1, max: 10)
            // 500m used of 500m requested is 100% against a 50% target: twice the pods.
            try await replicas(bed, "api", 4)
            let autoscalers = bed.resource(HorizontalPodAutoscaler.self)
            let scaled = try await bed.eventually("the status of the scale-up") {
                let current = try await autoscalers.get("api")
                return current.status.desiredReplicas == 4 ? current : nil
            }
            XCTAssertEqual(scaled.status.currentMetrics.first?.resource?.current?.averageUtilization, 100)
            XCTAssertEqual(
                scaled.status.currentMetrics.first?.resource?.current?.averageValue, try Quantity(parsing: "500m"))
            XCTAssertEqual(condition(scaled, "ScalingActive")?.reason, "ValidMetricFound")
            XCTAssertEqual(
                condition(scaled, "ScalingActive")?.message,
                "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"
            )
            XCTAssertEqual(condition(scaled, "AbleToScale")?.reason, "SucceededRescale")
            XCTAssertEqual(condition(scaled, "ScalingLimited")?.status, "False")
            let event = try await bed.eventually("a SuccessfulRescale event") {
                try await bed.events(about: "api", reason: "SuccessfulRescale").first
            }
            XCTAssertEqual(event, "New size: 4; reason: cpu resource utilization (percentage of request) above target")
        } catch {
            await bed.stop()
            throw error
        }
        await bed.stop()
    }
}

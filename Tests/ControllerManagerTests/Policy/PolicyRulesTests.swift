import APIMachinery
import Client
import Foundation
import Quota
import XCTest

@testable import ControllerManager

/// The disruption arithmetic and the quota measurements as pure functions.
final class PolicyRulesTests: XCTestCase {
    private func spec(minAvailable: IntOrString? = nil, maxUnavailable: IntOrString? = nil) -> PodDisruptionBudgetSpec {
        var spec = PodDisruptionBudgetSpec()
        spec.minAvailable = minAvailable
        spec.maxUnavailable = maxUnavailable
        return spec
    }

    func testExpectationsFollowUpstreamForEachBudgetForm() throws {
        let cases: [(String, PodDisruptionBudgetSpec, pods: Int, scale: Int, expected: Int, desired: Int)] = [
            ("minAvailable integer counts pods", spec(minAvailable: 2), 3, 10, 3, 2),
            ("minAvailable percentage rounds up", spec(minAvailable: "50%"), 3, 5, 5, 3),
            ("minAvailable 100%", spec(minAvailable: "100%"), 4, 4, 4, 4),
            ("maxUnavailable integer", spec(maxUnavailable: 1), 3, 4, 4, 3),
            ("maxUnavailable percentage rounds up", spec(maxUnavailable: "30%"), 5, 5, 5, 3),
            ("maxUnavailable above scale", spec(maxUnavailable: 7), 2, 3, 3, 0),
        ]
        for (name, spec, pods, scale, expected, desired) in cases {
            let result = try DisruptionBudget.expectations(spec, podCount: pods) { scale }
            XCTAssertEqual(result.expectedCount, expected, name)
            XCTAssertEqual(result.desiredHealthy, desired, name)
        }
    }

    func testScaleIsOnlyAskedForWhenNeeded() throws {
        struct Unknown: Error {}
        XCTAssertEqual(try DisruptionBudget.expectations(spec(minAvailable: 1), podCount: 2) { throw Unknown() }.0, 2)
        XCTAssertThrowsError(
            try DisruptionBudget.expectations(spec(minAvailable: "10%"), podCount: 2) { throw Unknown() })
        XCTAssertThrowsError(
            try DisruptionBudget.expectations(spec(maxUnavailable: 1), podCount: 2) { throw Unknown() })
    }

    func testDisruptionsAllowed() {
        XCTAssertEqual(DisruptionBudget.disruptionsAllowed(currentHealthy: 5, desiredHealthy: 3, expectedCount: 5), 2)
        XCTAssertEqual(DisruptionBudget.disruptionsAllowed(currentHealthy: 2, desiredHealthy: 3, expectedCount: 5), 0)
        XCTAssertEqual(DisruptionBudget.disruptionsAllowed(currentHealthy: 3, desiredHealthy: 0, expectedCount: 0), 0)
    }

    private func pod(_ name: String, ready: Bool, deleting: Bool = false) -> Pod {
        var pod = Pod()
        pod.metadata.name = name
        if deleting { pod.metadata.deletionTimestamp = Timestamp.now() }
        pod.status.phase = "Running"
        pod.status.conditions = [PodCondition(type: "Ready", status: ready ? "True" : "False")]
        return pod
    }

    func testHealthyPodsExcludeUnreadyDeletingAndDisrupted() {
        let pods = [
            pod("a", ready: true), pod("b", ready: false), pod("c", ready: true, deleting: true), pod("d", ready: true),
        ]
        let disrupted = DisruptionBudget.pendingDisruptions(
            ["d": 1000, "gone": 1000, "old": 100], pods: pods, now: 1010)
        XCTAssertEqual(disrupted, ["d": 1000])
        XCTAssertEqual(DisruptionBudget.currentHealthy(pods, disrupted: disrupted), 1)
        // An eviction never followed by a deletion stops counting after the timeout.
        XCTAssertEqual(DisruptionBudget.pendingDisruptions(["d": 1000], pods: pods, now: 1200), [:])
    }

    // MARK: Quota

    private func podJSON(
        containers: [(cpu: String, memory: String?)], initCPU: String? = nil, phase: String = "Running"
    ) throws -> JSON {
        var spec = PodSpec()
        spec.containers = containers.enumerated().map { index, resources in
            var container = Container(name: "c\(index)", image: "x")
            var requirements = ResourceRequirements()
            requirements.requests["cpu"] = try? Quantity(json: .string(resources.cpu))
            if let memory = resources.memory { requirements.limits["memory"] = try? Quantity(json: .string(memory)) }
            container.resources = requirements
            return container
        }
        if let initCPU {
            var container = Container(name: "init", image: "x")
            var requirements = ResourceRequirements()
            requirements.requests["cpu"] = try Quantity(json: .string(initCPU))
            container.resources = requirements
            spec.initContainers = [container]
        }
        var pod = Pod(spec: spec)
        pod.status.phase = phase
        return pod.toJSON()
    }

    func testPodUsageSumsContainersAndRaisesToInitContainers() throws {
        let evaluator = QuotaEvaluator(GroupResource(group: "", resource: "pods"))
        let now = Date()
        let usage = evaluator.usage(
            try podJSON(containers: [("100m", "64Mi"), ("250m", nil)], initCPU: "500m"), now: now)
        XCTAssertEqual(usage["requests.cpu"], try Quantity(json: "500m"))
        XCTAssertEqual(usage["cpu"], try Quantity(json: "500m"))
        XCTAssertEqual(usage["limits.memory"], try Quantity(json: "64Mi"))
        XCTAssertEqual(usage["pods"], Quantity(1))
        XCTAssertEqual(usage["count/pods"], Quantity(1))
        // A finished pod still counts as an object but uses no compute.
        let finished = evaluator.usage(try podJSON(containers: [("1", nil)], phase: "Succeeded"), now: now)
        XCTAssertEqual(finished, ["count/pods": Quantity(1)])
    }

    func testServiceAndCountUsage() {
        let services = QuotaEvaluator(GroupResource(group: "", resource: "services"))
        let nodePort: JSON = ["spec": ["type": "NodePort", "ports": [["port": 80], ["port": 443]]]]
        XCTAssertEqual(services.usage(nodePort, now: Date())["services.nodeports"], Quantity(2))
        let balancer: JSON = ["spec": ["type": "LoadBalancer", "ports": [["port": 80]]]]
        XCTAssertEqual(services.usage(balancer, now: Date())["services.loadbalancers"], Quantity(1))

        XCTAssertEqual(
            QuotaEvaluator(GroupResource(group: "", resource: "configmaps")).matchingResources([
                "configmaps", "count/configmaps", "cpu",
            ]),
            ["configmaps", "count/configmaps"])
        let deployments = QuotaEvaluator.evaluators(for: ["count/deployments.apps", "pods"])
        XCTAssertTrue(deployments.contains { $0.resource == GroupResource(group: "apps", resource: "deployments") })
        XCTAssertEqual(
            QuotaEvaluator(GroupResource(group: "apps", resource: "deployments")).usage([:], now: Date()),
            ["count/deployments.apps": Quantity(1)])
    }

    func testScopesSelectPodsOnly() throws {
        var spec = ResourceQuotaSpec()
        spec.scopes = ["BestEffort"]
        let scopes = QuotaScopes(spec: spec.toJSON())
        XCTAssertTrue(scopes.matches(.pods, try podJSON(containers: [])))
        XCTAssertFalse(scopes.matches(.pods, try podJSON(containers: [("1", nil)])))
        XCTAssertFalse(scopes.matches(.services, ["spec": [:]]))
        XCTAssertTrue(QuotaScopes(spec: ResourceQuotaSpec().toJSON()).matches(.services, ["spec": [:]]))
    }
}

import APIMachinery
import Client
import Foundation
import XCTest

@testable import ControllerManager

/// The replica arithmetic against upstream's replica_calculator cases (one container per pod, so levels are per pod).
final class ReplicaCalculatorTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    /// Pods `pod-0`… Running for ten minutes (past the CPU initialization period), each ready unless `readiness`
    /// says "False", requesting `requests` cores.
    func pods(_ requests: [String], readiness: [String] = [], phases: [String] = []) -> [Pod] {
        let started = Timestamp.format(epochSeconds: Int64(now.timeIntervalSince1970) - 600)
        return requests.enumerated().map { index, request in
            var container = Container(name: "main", image: "nginx")
            container.resources = ResourceRequirements(requests: [
                "cpu": (try? Quantity(parsing: request)) ?? Quantity()
            ])
            var pod = Pod(spec: PodSpec(containers: [container]))
            pod.metadata.name = "pod-\(index)"
            pod.status.phase = index < phases.count ? phases[index] : "Running"
            pod.status.startTime = started
            pod.status.conditions = [
                PodCondition(
                    type: "Ready", status: index < readiness.count ? readiness[index] : "True",
                    lastTransitionTime: started)
            ]
            return pod
        }
    }

    /// Samples for the first `levels.count` pods, taken now.
    func metrics(_ levels: [Int64]) -> [String: PodMetric] {
        Dictionary(
            uniqueKeysWithValues: levels.enumerated().map {
                ("pod-\($0.offset)", PodMetric(value: $0.element, timestamp: now))
            })
    }

    func testUtilizationCasesFromUpstream() throws {
        let one = ["1.0", "1.0", "1.0", "1.0", "1.0"]
        let cases:
            [(
                String, current: Int32, requests: [String], readiness: [String], phases: [String], levels: [Int64],
                target: Int32, expected: Int32, utilization: Int32
            )] = [
                ("ScaleUp", 3, Array(one.prefix(3)), [], [], [300, 500, 700], 30, 5, 50),
                ("ScaleUpUnreadyLessScale", 3, Array(one.prefix(3)), ["False"], [], [300, 500, 700], 30, 4, 60),
                (
                    "ScaleUpUnreadyNoScale", 3, Array(one.prefix(3)), ["False", "True", "False"], [], [400, 500, 700],
                    30, 3, 50
                ),
                ("ScaleDown", 5, one, [], [], [100, 300, 500, 250, 250], 50, 3, 28),
                ("Tolerance", 3, ["0.9", "1.0", "1.1"], [], [], [1010, 1030, 1020], 100, 3, 102),
                (
                    "SuperfluousMetrics", 4, Array(one.prefix(4)), [], [], [4000, 9500, 3000, 7000, 3200, 2000], 100,
                    24, 587
                ),
                ("MissingMetrics", 4, Array(one.prefix(4)), [], [], [400, 95], 100, 3, 24),
                ("MissingMetricsNoChangeEq", 2, Array(one.prefix(2)), [], [], [1000], 100, 2, 100),
                ("MissingMetricsNoChangeGt", 2, Array(one.prefix(2)), [], [], [1900], 100, 2, 190),
                ("MissingMetricsNoChangeLt", 2, Array(one.prefix(2)), [], [], [600], 100, 2, 60),
                ("MissingMetricsUnreadyChange", 3, Array(one.prefix(3)), ["False"], [], [100, 450], 50, 3, 45),
                ("MissingMetricsUnreadyScaleUp", 3, Array(one.prefix(3)), ["False"], [], [100, 2000], 50, 4, 200),
                ("MissingMetricsUnreadyScaleDown", 4, Array(one.prefix(4)), ["False"], [], [100, 100, 100], 50, 3, 10),
                (
                    "MissingMetricsScaleDownTargetOver100", 4, ["1.0", "1.0", "2.0", "2.0"], ["False"], [],
                    [200, 100, 100], 300, 2, 6
                ),
                (
                    "DuringRollingUpdateWithMaxSurge", 2, Array(one.prefix(3)), [], ["Running", "Running", "Running"],
                    [100, 100], 50, 2, 10
                ),
                (
                    "ScaleUpIgnoresFailedPods", 2, Array(one.prefix(4)), [],
                    ["Running", "Running", "Failed", "Failed"],
                    [500, 700, 100, 100], 30, 4, 60
                ),
                (
                    "PendingPodCountsAsUnready", 3, Array(one.prefix(3)), [], ["Running", "Running", "Pending"],
                    [300, 500, 700], 30, 3, 40
                ),
            ]
        let calculator = ReplicaCalculator()
        for (name, current, requests, readiness, phases, levels, target, expected, utilization) in cases {
            let result = try calculator.utilizationReplicas(
                currentReplicas: current, targetUtilization: target, resource: "cpu",
                pods: pods(requests, readiness: readiness, phases: phases), metrics: metrics(levels), now: now)
            XCTAssertEqual(result.replicas, expected, name)
            XCTAssertEqual(result.utilization, utilization, name)
        }
    }

    func testToleranceIsConfigurable() throws {
        let requests = ["0.9", "1.0", "1.1"]
        let cases: [(Double, [Int64], Int32)] = [
            (0.0, [909, 1010, 1111], 4),  // Outside a 0% tolerance at 101%.
            (0.08, [1100, 1080, 1090], 4),  // Outside an 8% tolerance at 109%.
            (0.36, [660, 640, 650], 3),  // Within a 36% tolerance at 65%.
            (0.34, [660, 640, 650], 2),  // Outside a 34% tolerance at 65%.
        ]
        for (tolerance, levels, expected) in cases {
            let result = try ReplicaCalculator(tolerance: tolerance).utilizationReplicas(
                currentReplicas: 3, targetUtilization: 100, resource: "cpu", pods: pods(requests),
                metrics: metrics(levels), now: now)
            XCTAssertEqual(result.replicas, expected, "tolerance \(tolerance)")
        }
    }

    func testAverageValueTargets() throws {
        let calculator = ReplicaCalculator()
        let cases:
            [(String, current: Int32, pods: Int, levels: [Int64], target: Int64, expected: Int32, average: Int64)] = [
                ("scale up on average usage", 3, 3, [1000, 1000, 1000], 500, 6, 1000),
                ("within tolerance", 3, 3, [510, 490, 500], 500, 3, 500),
                ("scale down", 4, 4, [100, 100, 100, 100], 200, 2, 100),
                ("missing pods use the target on the way down", 4, 4, [100, 100], 500, 3, 100),
                ("missing pods use nothing on the way up, which turns the direction", 2, 3, [600, 600], 500, 2, 600),
            ]
        for (name, current, count, levels, target, expected, average) in cases {
            let result = try calculator.averageValueReplicas(
                currentReplicas: current, targetAverage: target, resource: "memory",
                pods: pods(Array(repeating: "1", count: count)), metrics: metrics(levels), now: now)
            XCTAssertEqual(result.replicas, expected, name)
            XCTAssertEqual(result.average, average, name)
        }
    }

    func testErrorsUseUpstreamsWords() {
        let calculator = ReplicaCalculator()
        XCTAssertThrowsError(
            try calculator.utilizationReplicas(
                currentReplicas: 1, targetUtilization: 50, resource: "cpu", pods: [], metrics: metrics([100]), now: now)
        ) { XCTAssertEqual("\($0)", "no pods returned by selector while calculating replica count") }
        var bare = pods(["1"])
        bare[0].spec.containers[0].resources = nil
        XCTAssertThrowsError(
            try calculator.utilizationReplicas(
                currentReplicas: 1, targetUtilization: 50, resource: "cpu", pods: bare, metrics: metrics([100]),
                now: now)
        ) { XCTAssertEqual("\($0)", "missing request for cpu in container main of Pod pod-0") }
        XCTAssertThrowsError(
            try calculator.utilizationReplicas(
                currentReplicas: 2, targetUtilization: 50, resource: "cpu",
                pods: pods(["1", "1"], readiness: ["False", "False"]),
                metrics: metrics([100, 100]), now: now)
        ) { XCTAssertEqual("\($0)", "did not receive metrics for targeted pods (pods might be unready)") }
    }

    func testDisjointMetricsAndOverflow() {
        var metrics = metrics([100])
        metrics["an-older-pod-name"] = metrics.removeValue(forKey: "pod-0")
        XCTAssertThrowsError(
            try ReplicaCalculator().utilizationReplicas(
                currentReplicas: 1, targetUtilization: 100, resource: "cpu", pods: pods(["1"]), metrics: metrics,
                now: now)
        ) { XCTAssertEqual("\($0)", "no metrics returned matched known pods") }
        XCTAssertEqual(ReplicaCalculator.replicas(Double(Int64.max)), Int32.max)
        XCTAssertEqual(ReplicaCalculator.replicas(2.01), 3)
        XCTAssertEqual(ReplicaCalculator.replicas(.infinity), Int32.max)
    }

    func testCPUReadinessWithinTheInitializationPeriod() {
        let calculator = ReplicaCalculator()
        var young = pods(["1"])
        let start = Int64(now.timeIntervalSince1970) - 60
        young[0].status.startTime = Timestamp.format(epochSeconds: start)
        young[0].status.conditions[0].lastTransitionTime = Timestamp.format(epochSeconds: start + 20)
        // A sample whose window began before the pod became ready does not count yet.
        let early = ["pod-0": PodMetric(value: 100, timestamp: Date(timeIntervalSince1970: TimeInterval(start + 30)))]
        XCTAssertEqual(calculator.group(young, metrics: early, resource: "cpu", now: now).unready, ["pod-0"])
        let late = ["pod-0": PodMetric(value: 100, timestamp: Date(timeIntervalSince1970: TimeInterval(start + 55)))]
        XCTAssertEqual(calculator.group(young, metrics: late, resource: "cpu", now: now).readyCount, 1)
        // Memory is not subject to readiness.
        var unready = pods(["1"], readiness: ["False"])
        XCTAssertEqual(calculator.group(unready, metrics: late, resource: "memory", now: now).readyCount, 1)
        unready[0].metadata.deletionTimestamp = Timestamp.now()
        XCTAssertEqual(calculator.group(unready, metrics: late, resource: "memory", now: now).ignored, ["pod-0"])
    }
}

import Client
import XCTest

@testable import ControllerManager

/// Stabilization, the min/max clamp and the `behavior` rate policies, as upstream's normalization tests state them.
final class ScaleNormalizationTests: XCTestCase {
    let start = ContinuousClock.now

    func at(_ seconds: Int) -> ContinuousClock.Instant { start + .seconds(seconds) }

    func testClampWithoutBehavior() {
        let cases: [(String, current: Int32, desired: Int32, min: Int32, max: Int32, NormalizedReplicas)] = [
            (
                "within range", 3, 5, 1, 10,
                .init(
                    replicas: 5, reason: "DesiredWithinRange",
                    message: "the desired count is within the acceptable range")
            ),
            (
                "below the minimum", 3, 1, 2, 10,
                .init(
                    replicas: 2, reason: "TooFewReplicas",
                    message: "the desired replica count is less than the minimum replica count")
            ),
            (
                "faster than doubling", 3, 20, 1, 10,
                .init(
                    replicas: 6, reason: "ScaleUpLimit",
                    message: "the desired replica count is increasing faster than the maximum scale rate")
            ),
            (
                "from one, up to four at once", 1, 9, 1, 10,
                .init(
                    replicas: 4, reason: "ScaleUpLimit",
                    message: "the desired replica count is increasing faster than the maximum scale rate")
            ),
            (
                "above the maximum", 10, 25, 1, 20,
                .init(
                    replicas: 20, reason: "TooManyReplicas",
                    message: "the desired replica count is more than the maximum replica count")
            ),
        ]
        for (name, current, desired, minimum, maximum, expected) in cases {
            XCTAssertEqual(
                ScaleNormalization.clamp(current: current, desired: desired, min: minimum, max: maximum), expected, name
            )
        }
    }

    func testDownscaleStabilizationKeepsTheHighestRecentRecommendation() {
        var history = ScaleHistory()
        let window = Duration.seconds(300)
        XCTAssertEqual(ScaleNormalization.stabilize(&history, desired: 8, window: window, now: at(0)), 8)
        XCTAssertEqual(ScaleNormalization.stabilize(&history, desired: 4, window: window, now: at(60)), 8)
        XCTAssertEqual(ScaleNormalization.stabilize(&history, desired: 5, window: window, now: at(120)), 8)
        // Once the 8 is older than the window it no longer counts, and its slot is reused.
        XCTAssertEqual(ScaleNormalization.stabilize(&history, desired: 3, window: window, now: at(301)), 5)
        XCTAssertEqual(history.recommendations.count, 3)
        XCTAssertEqual(ScaleNormalization.stabilize(&history, desired: 9, window: window, now: at(302)), 9)
    }

    func testBehaviorStabilizationWindows() {
        var history = ScaleHistory(recommendations: [.init(replicas: 5, time: at(0))])
        let down = ScaleNormalization.stabilize(
            &history, current: 5, desired: 3, upWindow: .zero, downWindow: .seconds(300), now: at(10))
        XCTAssertEqual(down.replicas, 5)
        XCTAssertEqual(down.reason, "ScaleDownStabilized")
        history = ScaleHistory(recommendations: [.init(replicas: 2, time: at(0))])
        let up = ScaleNormalization.stabilize(
            &history, current: 2, desired: 6, upWindow: .seconds(60), downWindow: .seconds(300), now: at(10))
        XCTAssertEqual(up.replicas, 2)
        XCTAssertEqual(up.reason, "ScaleUpStabilized")
        let later = ScaleNormalization.stabilize(
            &history, current: 2, desired: 6, upWindow: .seconds(60), downWindow: .seconds(300), now: at(70))
        XCTAssertEqual(later.replicas, 6, "the 2 left the scale-up window")
    }

    func rules(_ select: String, _ policies: [(String, Int32, Int32)]) -> HPAScalingRules {
        var rules = HPAScalingRules()
        rules.selectPolicy = select
        rules.policies = policies.map { HPAScalingPolicy(type: $0.0, value: $0.1, periodSeconds: $0.2) }
        return rules
    }

    func testRatePolicies() {
        let up = ScaleNormalization.scaleUpRules(nil)
        let down = ScaleNormalization.scaleDownRules(nil, window: .seconds(300))
        XCTAssertEqual(up.stabilizationWindowSeconds, 0)
        XCTAssertEqual(down.stabilizationWindowSeconds, 300)
        let empty = ScaleHistory()
        let cases:
            [(String, ScaleHistory, current: Int32, desired: Int32, HPAScalingRules, HPAScalingRules, Int32, String)] =
                [
                    ("default scale-up: the larger of +4 pods and +100%", empty, 3, 20, up, down, 7, "ScaleUpLimit"),
                    (
                        "Min picks the stricter policy", empty, 3, 20,
                        rules("Min", [("Pods", 4, 15), ("Percent", 100, 15)]), down, 6, "ScaleUpLimit"
                    ),
                    (
                        "recent scale-ups count against the period",
                        ScaleHistory(scaleUps: [.init(replicas: 3, time: at(0))]), 6,
                        20, rules("Max", [("Pods", 4, 60)]), down, 7, "ScaleUpLimit"
                    ),
                    ("Disabled holds the count", empty, 3, 20, rules("Disabled", []), down, 3, "ScaleUpLimit"),
                    ("the maximum still binds", empty, 3, 20, up, down, 5, "TooManyReplicas"),
                    (
                        "scale-down by percent", empty, 10, 2, up, rules("Max", [("Percent", 50, 60)]), 5,
                        "ScaleDownLimit"
                    ),
                    (
                        "recent scale-downs count against the period",
                        ScaleHistory(scaleDowns: [.init(replicas: 1, time: at(0))]), 10, 2, up,
                        rules("Max", [("Pods", 1, 60)]),
                        10, "ScaleDownLimit"
                    ),
                    ("the minimum still binds", empty, 10, 0, up, down, 1, "TooFewReplicas"),
                    ("within the limits", empty, 4, 6, up, down, 6, "DesiredWithinRange"),
                ]
        for (name, history, current, desired, scaleUp, scaleDown, expected, reason) in cases {
            let maximum: Int32 = name == "the maximum still binds" ? 5 : 100
            let result = ScaleNormalization.limitRate(
                history, current: current, desired: desired, min: 1, max: maximum, scaleUp: scaleUp,
                scaleDown: scaleDown, now: at(30))
            XCTAssertEqual(result.replicas, expected, name)
            XCTAssertEqual(result.reason, reason, name)
        }
    }

    func testScaleChangesAreRecordedForTheirDirectionOnly() {
        var history = ScaleHistory()
        var behavior = HorizontalPodAutoscalerBehavior()
        behavior.scaleUp = rules("Max", [("Pods", 4, 15)])
        ScaleNormalization.recordChange(&history, from: 2, to: 6, behavior: behavior, now: at(0))
        ScaleNormalization.recordChange(&history, from: 6, to: 6, behavior: behavior, now: at(1))
        ScaleNormalization.recordChange(&history, from: 6, to: 9, behavior: behavior, now: at(20))
        XCTAssertEqual(history.scaleUps.map(\.replicas), [3], "the first change left the 15 s period")
        ScaleNormalization.recordChange(&history, from: 9, to: 5, behavior: nil, now: at(21))
        XCTAssertTrue(history.scaleDowns.isEmpty, "without behavior nothing is recorded")
    }
}

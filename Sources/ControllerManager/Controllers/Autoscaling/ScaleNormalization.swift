import Client

/// What the autoscaler remembers about one HPA between syncs: its recent recommendations (for stabilization) and
/// its recent scale changes (for the `behavior` rate policies), stamped with the monotonic clock.
struct ScaleHistory: Sendable, Equatable {
    struct Recommendation: Sendable, Equatable {
        var replicas: Int32
        var time: ContinuousClock.Instant
    }

    struct Change: Sendable, Equatable {
        var replicas: Int32
        var time: ContinuousClock.Instant
    }

    var recommendations: [Recommendation] = []
    var scaleUps: [Change] = []
    var scaleDowns: [Change] = []
}

/// A limit or stabilization outcome: the replica count and the condition reason and message that explain it.
struct NormalizedReplicas: Equatable {
    var replicas: Int32
    var reason: String
    var message: String
}

/// Upstream's normalization of a metric proposal into the replicas the HPA asks for: downscale stabilization, the
/// min/max clamp with the legacy scale-up limit, or, with `behavior`, its stabilization windows and rate policies.
enum ScaleNormalization {
    static let withinRange = NormalizedReplicas(
        replicas: 0, reason: "DesiredWithinRange", message: "the desired count is within the acceptable range")

    /// Without `behavior`: the highest recommendation within the downscale stabilization window (this one
    /// included, then recorded, replacing a sample older than the window when there is one).
    static func stabilize(
        _ history: inout ScaleHistory, desired: Int32, window: Duration, now: ContinuousClock.Instant
    ) -> Int32 {
        var highest = desired
        var outdated: Int?
        for (index, sample) in history.recommendations.enumerated() {
            if now - sample.time > window {
                outdated = index
            } else {
                highest = max(highest, sample.replicas)
            }
        }
        record(&history, desired, now: now, replacing: outdated)
        return highest
    }

    private static func record(
        _ history: inout ScaleHistory, _ replicas: Int32, now: ContinuousClock.Instant, replacing index: Int?
    ) {
        let sample = ScaleHistory.Recommendation(replicas: replicas, time: now)
        if let index { history.recommendations[index] = sample } else { history.recommendations.append(sample) }
    }

    /// Without `behavior`: clamp to [min, max], never more than doubling (at least to 4) in one step.
    static func clamp(current: Int32, desired: Int32, min minimum: Int32, max maximum: Int32) -> NormalizedReplicas {
        let scaleUpLimit = clamped(max(2.0 * Double(current), 4.0))
        var limit = NormalizedReplicas(
            replicas: maximum, reason: "TooManyReplicas",
            message: "the desired replica count is more than the maximum replica count")
        if maximum > scaleUpLimit {
            limit = NormalizedReplicas(
                replicas: scaleUpLimit, reason: "ScaleUpLimit",
                message: "the desired replica count is increasing faster than the maximum scale rate")
        }
        if desired < minimum {
            return NormalizedReplicas(
                replicas: minimum, reason: "TooFewReplicas",
                message: "the desired replica count is less than the minimum replica count")
        }
        if desired > limit.replicas { return limit }
        var result = withinRange
        result.replicas = desired
        return result
    }

    /// With `behavior`: the recommendation held between the lowest within the scale-up window and the highest
    /// within the scale-down window, starting from the current count; the proposal is then recorded.
    static func stabilize(
        _ history: inout ScaleHistory, current: Int32, desired: Int32, upWindow: Duration, downWindow: Duration,
        now: ContinuousClock.Instant
    ) -> NormalizedReplicas {
        var up = desired
        var down = desired
        var outdated: Int?
        for (index, sample) in history.recommendations.enumerated() {
            let age = now - sample.time
            if age < upWindow { up = min(up, sample.replicas) }
            if age < downWindow { down = max(down, sample.replicas) }
            if age > upWindow && age > downWindow { outdated = index }
        }
        var recommendation = current
        if recommendation < up { recommendation = up }
        if recommendation > down { recommendation = down }
        record(&history, desired, now: now, replacing: outdated)
        if desired >= current {
            return NormalizedReplicas(
                replicas: recommendation, reason: "ScaleUpStabilized",
                message: "recent recommendations were lower than current one, applying the lowest recent recommendation"
            )
        }
        return NormalizedReplicas(
            replicas: recommendation, reason: "ScaleDownStabilized",
            message: "recent recommendations were higher than current one, applying the highest recent recommendation")
    }

    /// With `behavior`: the rate policies' limit on this step, then the min/max clamp.
    static func limitRate(
        _ history: ScaleHistory, current: Int32, desired: Int32, min minimum: Int32, max maximum: Int32,
        scaleUp: HPAScalingRules, scaleDown: HPAScalingRules, now: ContinuousClock.Instant
    ) -> NormalizedReplicas {
        if desired > current {
            let limit = max(current, scaleUpLimit(current: current, history: history, rules: scaleUp, now: now))
            let bound =
                maximum > limit
                ? NormalizedReplicas(
                    replicas: limit, reason: "ScaleUpLimit",
                    message: "the desired replica count is increasing faster than the maximum scale rate")
                : NormalizedReplicas(
                    replicas: maximum, reason: "TooManyReplicas",
                    message: "the desired replica count is more than the maximum replica count")
            if desired > bound.replicas { return bound }
        } else if desired < current {
            let limit = min(current, scaleDownLimit(current: current, history: history, rules: scaleDown, now: now))
            let bound =
                minimum < limit
                ? NormalizedReplicas(
                    replicas: limit, reason: "ScaleDownLimit",
                    message: "the desired replica count is decreasing faster than the maximum scale rate")
                : NormalizedReplicas(
                    replicas: minimum, reason: "TooFewReplicas",
                    message: "the desired replica count is less than the minimum replica count")
            if desired < bound.replicas { return bound }
        }
        var result = withinRange
        result.replicas = desired
        return result
    }

    /// The most replicas the scale-up policies allow now: per policy, its period's starting count plus its pods
    /// or percent; `Max` (default) takes the most generous policy, `Min` the strictest, `Disabled` none.
    static func scaleUpLimit(
        current: Int32, history: ScaleHistory, rules: HPAScalingRules, now: ContinuousClock.Instant
    )
        -> Int32
    {
        let select = rules.selectPolicy ?? "Max"
        if select == "Disabled" { return current }
        var result: Int32 = select == "Min" ? .max : .min
        for policy in rules.policies {
            let start = periodStart(current, history: history, period: policy.periodSeconds ?? 0, now: now)
            let value = policy.value ?? 0
            let proposed =
                policy.type == "Percent"
                ? clamped((Double(start) * (1 + Double(value) / 100)).rounded(.up))
                : clamped(Double(start) + Double(value))
            result = select == "Min" ? min(result, proposed) : max(result, proposed)
        }
        return result
    }

    /// The fewest replicas the scale-down policies allow now, chosen as for scale-up but mirrored.
    static func scaleDownLimit(
        current: Int32, history: ScaleHistory, rules: HPAScalingRules, now: ContinuousClock.Instant
    ) -> Int32 {
        let select = rules.selectPolicy ?? "Max"
        if select == "Disabled" { return current }
        var result: Int32 = select == "Min" ? .min : .max
        for policy in rules.policies {
            let start = periodStart(current, history: history, period: policy.periodSeconds ?? 0, now: now)
            let value = policy.value ?? 0
            let proposed =
                policy.type == "Percent"
                ? clamped((Double(start) * (1 - Double(value) / 100)).rounded(.towardZero))
                : clamped(Double(start) - Double(value))
            result = select == "Min" ? max(result, proposed) : min(result, proposed)
        }
        return result
    }

    /// The replica count at the start of a policy's period: today's count less what was added and plus what was
    /// removed within it.
    private static func periodStart(
        _ current: Int32, history: ScaleHistory, period: Int32, now: ContinuousClock.Instant
    ) -> Int32 {
        let window = Duration.seconds(Int64(period))
        let added = history.scaleUps.filter { now - $0.time < window }.reduce(0.0) { $0 + Double($1.replicas) }
        let removed = history.scaleDowns.filter { now - $0.time < window }.reduce(0.0) { $0 + Double($1.replicas) }
        return clamped(Double(current) - added + removed)
    }

    /// A whole number held within Int32, so no policy value or history can overflow the arithmetic.
    static func clamped(_ value: Double) -> Int32 {
        guard value.isFinite else { return value < 0 ? .min : .max }
        return Int32(max(Double(Int32.min), min(Double(Int32.max), value)))
    }

    /// Records a scale change for the rate policies, dropping changes older than the longest policy period.
    static func recordChange(
        _ history: inout ScaleHistory, from current: Int32, to desired: Int32,
        behavior: HorizontalPodAutoscalerBehavior?,
        now: ContinuousClock.Instant
    ) {
        guard let behavior, desired != current else { return }
        let up = desired > current
        let rules = (up ? behavior.scaleUp : behavior.scaleDown)?.policies ?? []
        let longest = Duration.seconds(Int64(rules.map { $0.periodSeconds ?? 0 }.max() ?? 0))
        let change = ScaleHistory.Change(replicas: abs(desired - current), time: now)
        if up {
            history.scaleUps.removeAll { now - $0.time > longest }
            history.scaleUps.append(change)
        } else {
            history.scaleDowns.removeAll { now - $0.time > longest }
            history.scaleDowns.append(change)
        }
    }

    /// Upstream's defaults for rules a `behavior` leaves out (the API server fills them in as well).
    static func scaleUpRules(_ given: HPAScalingRules?) -> HPAScalingRules {
        var rules = given ?? HPAScalingRules()
        if rules.stabilizationWindowSeconds == nil { rules.stabilizationWindowSeconds = 0 }
        if rules.selectPolicy == nil { rules.selectPolicy = "Max" }
        if rules.policies.isEmpty {
            rules.policies = [
                HPAScalingPolicy(type: "Pods", value: 4, periodSeconds: 15),
                HPAScalingPolicy(type: "Percent", value: 100, periodSeconds: 15),
            ]
        }
        return rules
    }

    /// The scale-down rules; the stabilization window defaults to
    /// `--horizontal-pod-autoscaler-downscale-stabilization`.
    static func scaleDownRules(_ given: HPAScalingRules?, window: Duration) -> HPAScalingRules {
        var rules = given ?? HPAScalingRules()
        if rules.stabilizationWindowSeconds == nil {
            rules.stabilizationWindowSeconds = Int32(window.components.seconds)
        }
        if rules.selectPolicy == nil { rules.selectPolicy = "Max" }
        if rules.policies.isEmpty {
            rules.policies = [HPAScalingPolicy(type: "Percent", value: 100, periodSeconds: 15)]
        }
        return rules
    }
}

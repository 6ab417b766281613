import APIMachinery
import Client
import Foundation

extension HorizontalPodAutoscalerController {
    /// What the metrics proposed: the highest proposal and the metric behind it, each metric's status, and the
    /// error to report when the proposal cannot be used (replicas -1) or some metrics failed.
    struct MetricsOutcome {
        var replicas: Int32 = 0
        var metric = ""
        var statuses: [MetricStatus] = []
        var error: String?
    }

    /// One metric's failure: the ScalingActive condition reason, the error its event and condition show, and the
    /// error naming the metric that the aggregate message quotes.
    struct MetricFailure: Error {
        var reason: String
        var inner: String
        var message: String
    }

    /// Upstream's `reconcileAutoscaler`.
    func reconcile(_ autoscaler: HorizontalPodAutoscaler, key: ObjectKey) async throws {
        var status = autoscaler.status
        let now = Timestamp.format(epochSeconds: Int64(context.time.wallNow.timeIntervalSince1970))
        let target = autoscaler.spec.scaleTargetRef ?? CrossVersionObjectReference()
        let reference = "\(target.kind ?? "")/\(autoscaler.metadata.namespace ?? "")/\(target.name ?? "")"
        let scale: Scale
        do {
            scale = try await self.scale(of: autoscaler)
        } catch {
            let message = Self.text(error)
            event(autoscaler, .warning, "FailedGetScale", message)
            Self.setCondition(
                &status, "AbleToScale", false, "FailedGetScale",
                "the HPA controller was unable to get the target's current scale: \(message)", now: now)
            try await write(status, to: autoscaler)
            throw MetricsError("failed to query scale subresource for \(reference): \(message)")
        }
        Self.setCondition(
            &status, "AbleToScale", true, "SucceededGetScale",
            "the HPA controller was able to get the target's current scale", now: now)
        let current = scale.replicas
        let instant = context.time.now
        histories.withLockedValue { histories in
            if histories[key, default: ScaleHistory()].recommendations.isEmpty {
                histories[key, default: ScaleHistory()].recommendations.append(.init(replicas: current, time: instant))
            }
        }
        let minimum = autoscaler.spec.minReplicas ?? 1
        let maximum = autoscaler.spec.maxReplicas ?? 0
        var desired: Int32 = 0
        var reason = ""
        var statuses: [MetricStatus] = []
        var rescale = true
        if current == 0 && minimum != 0 {
            rescale = false
            Self.setCondition(
                &status, "ScalingActive", false, "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero", now: now)
        } else if current > maximum {
            reason = "Current number of replicas above Spec.MaxReplicas"
            desired = maximum
        } else if current < minimum {
            reason = "Current number of replicas below Spec.MinReplicas"
            desired = minimum
        } else {
            let outcome = await replicasForMetrics(autoscaler, scale: scale, status: &status, now: now)
            statuses = outcome.statuses
            if let error = outcome.error, outcome.replicas == -1 {
                Self.setStatus(&status, current: current, desired: status.desiredReplicas ?? 0, metrics: statuses)
                try await write(status, to: autoscaler)
                event(autoscaler, .warning, "FailedComputeMetricsReplicas", error)
                throw MetricsError(
                    "failed to compute desired number of replicas based on listed metrics for \(reference): \(error)")
            }
            desired = outcome.replicas
            if desired > current { reason = "\(outcome.metric) above target" }
            if desired < current { reason = "All metrics below target" }
            desired = normalize(
                autoscaler, key: key, current: current, desired: desired, minimum: minimum, status: &status, now: now)
            rescale = desired != current
        }
        if rescale {
            do {
                try await update(scale, replicas: desired, namespace: autoscaler.metadata.namespace)
            } catch {
                let message = Self.text(error)
                event(
                    autoscaler, .warning, "FailedRescale", "New size: \(desired); reason: \(reason); error: \(message)")
                Self.setCondition(
                    &status, "AbleToScale", false, "FailedUpdateScale",
                    "the HPA controller was unable to update the target scale: \(message)", now: now)
                Self.setStatus(&status, current: current, desired: status.desiredReplicas ?? 0, metrics: statuses)
                try await write(status, to: autoscaler)
                throw MetricsError("failed to rescale \(reference): \(message)")
            }
            Self.setCondition(
                &status, "AbleToScale", true, "SucceededRescale",
                "the HPA controller was able to update the target scale to \(desired)", now: now)
            event(autoscaler, .normal, "SuccessfulRescale", "New size: \(desired); reason: \(reason)")
            histories.withLockedValue { histories in
                ScaleNormalization.recordChange(
                    &histories[key, default: ScaleHistory()], from: current, to: desired,
                    behavior: autoscaler.spec.behavior, now: instant)
            }
            Self.setStatus(&status, current: current, desired: desired, metrics: statuses, scaledAt: now)
        } else {
            Self.setStatus(&status, current: current, desired: current, metrics: statuses)
        }
        try await write(status, to: autoscaler)
    }

    /// Upstream's `setStatus`: the status is rebuilt from these fields and the conditions.
    static func setStatus(
        _ status: inout HorizontalPodAutoscalerStatus, current: Int32, desired: Int32, metrics: [MetricStatus],
        scaledAt: String? = nil
    ) {
        var rebuilt = HorizontalPodAutoscalerStatus()
        rebuilt.currentReplicas = current
        rebuilt.desiredReplicas = desired
        rebuilt.lastScaleTime = scaledAt ?? status.lastScaleTime
        rebuilt.currentMetrics = metrics
        rebuilt.conditions = status.conditions
        status = rebuilt
    }

    /// The metric proposal turned into the replicas to ask for, with the AbleToScale and ScalingLimited conditions
    /// saying why (upstream's `normalizeDesiredReplicas` and `normalizeDesiredReplicasWithBehaviors`).
    private func normalize(
        _ autoscaler: HorizontalPodAutoscaler, key: ObjectKey, current: Int32, desired: Int32, minimum: Int32,
        status: inout HorizontalPodAutoscalerStatus, now: String
    ) -> Int32 {
        let maximum = autoscaler.spec.maxReplicas ?? 0
        let instant = context.time.now
        let window = downscaleStabilization
        let stabilized: NormalizedReplicas
        let limited: NormalizedReplicas
        if let behavior = autoscaler.spec.behavior {
            let up = ScaleNormalization.scaleUpRules(behavior.scaleUp)
            let down = ScaleNormalization.scaleDownRules(behavior.scaleDown, window: window)
            (stabilized, limited) = histories.withLockedValue { histories in
                let stabilized = ScaleNormalization.stabilize(
                    &histories[key, default: ScaleHistory()], current: current, desired: desired,
                    upWindow: .seconds(Int64(up.stabilizationWindowSeconds ?? 0)),
                    downWindow: .seconds(Int64(down.stabilizationWindowSeconds ?? 0)), now: instant)
                let limited = ScaleNormalization.limitRate(
                    histories[key, default: ScaleHistory()], current: current, desired: stabilized.replicas,
                    min: minimum, max: maximum, scaleUp: up, scaleDown: down, now: instant)
                return (stabilized, limited)
            }
        } else {
            let replicas = histories.withLockedValue { histories in
                ScaleNormalization.stabilize(
                    &histories[key, default: ScaleHistory()], desired: desired, window: window, now: instant)
            }
            stabilized = NormalizedReplicas(
                replicas: replicas, reason: "ScaleDownStabilized",
                message:
                    "recent recommendations were higher than current one, applying the highest recent recommendation")
            limited = ScaleNormalization.clamp(current: current, desired: replicas, min: minimum, max: maximum)
        }
        if stabilized.replicas != desired {
            Self.setCondition(&status, "AbleToScale", true, stabilized.reason, stabilized.message, now: now)
        } else {
            Self.setCondition(
                &status, "AbleToScale", true, "ReadyForNewScale", "recommended size matches current size", now: now)
        }
        Self.setCondition(
            &status, "ScalingLimited", limited.replicas != stabilized.replicas, limited.reason, limited.message,
            now: now)
        return limited.replicas
    }

    /// Upstream's `computeReplicasForMetrics`: the highest proposal of the metrics that could be read; when all
    /// failed, or some did and the rest would scale down, the first failure's condition and replicas -1.
    private func replicasForMetrics(
        _ autoscaler: HorizontalPodAutoscaler, scale: Scale, status: inout HorizontalPodAutoscalerStatus, now: String
    ) async -> MetricsOutcome {
        var outcome = MetricsOutcome()
        let selector: LabelSelector
        do {
            selector = try parseSelector(autoscaler, scale: scale, status: &status, now: now)
        } catch {
            outcome.replicas = -1
            outcome.error = error.message
            return outcome
        }
        let specs = autoscaler.spec.metrics.isEmpty ? [Self.defaultMetric] : autoscaler.spec.metrics
        var failures: [MetricFailure] = []
        for spec in specs {
            do {
                let (replicas, name, metricStatus) = try await proposal(
                    for: spec, current: scale.replicas, namespace: autoscaler.metadata.namespace ?? "",
                    selector: selector)
                outcome.statuses.append(metricStatus)
                if outcome.replicas == 0 || replicas > outcome.replicas {
                    outcome.replicas = replicas
                    outcome.metric = name
                }
            } catch {
                event(autoscaler, .warning, error.reason, error.inner)
                failures.append(error)
                outcome.statuses.append(MetricStatus(type: ""))
            }
        }
        guard let first = failures.first else {
            Self.setCondition(
                &status, "ScalingActive", true, "ValidMetricFound",
                "the HPA was able to successfully calculate a replica count from \(outcome.metric)", now: now)
            return outcome
        }
        outcome.error =
            "invalid metrics (\(failures.count) invalid out of \(specs.count)), first error is: \(first.message)"
        if failures.count >= specs.count || outcome.replicas < scale.replicas {
            Self.setCondition(
                &status, "ScalingActive", false, first.reason,
                "the HPA was unable to compute the replica count: \(first.inner)", now: now)
            outcome.replicas = -1
            return outcome
        }
        Self.setCondition(
            &status, "ScalingActive", true, "ValidMetricFound",
            "the HPA was able to successfully calculate a replica count from \(outcome.metric)", now: now)
        return outcome
    }

    /// The API server's default metric when an HPA names none: CPU at 80% of requests.
    static var defaultMetric: MetricSpec {
        var spec = MetricSpec(type: "Resource")
        spec.resource = ResourceMetricSource(name: "cpu", target: MetricTarget(type: "Utilization"))
        spec.resource?.target?.averageUtilization = 80
        return spec
    }

    /// The target's pod selector from its scale, with upstream's events and condition when it is missing or bad.
    private func parseSelector(
        _ autoscaler: HorizontalPodAutoscaler, scale: Scale, status: inout HorizontalPodAutoscalerStatus, now: String
    ) throws(MetricsError) -> LabelSelector {
        guard !scale.selector.isEmpty else {
            event(autoscaler, .warning, "SelectorRequired", "selector is required")
            Self.setCondition(
                &status, "ScalingActive", false, "InvalidSelector", "the HPA target's scale is missing a selector",
                now: now)
            throw MetricsError("selector is required")
        }
        do {
            return try LabelSelector(parsing: scale.selector)
        } catch {
            let message = "couldn't convert selector into a corresponding internal selector object: \(error.message)"
            event(autoscaler, .warning, "InvalidSelector", message)
            Self.setCondition(&status, "ScalingActive", false, "InvalidSelector", message, now: now)
            throw MetricsError(message)
        }
    }

    /// A readable error text: a Status's message, or the error's own description.
    static func text(_ error: any Error) -> String {
        if let status = error as? StatusError { return status.message }
        return "\(error)"
    }
}

extension MetricsError {
    var message: String { description }
}

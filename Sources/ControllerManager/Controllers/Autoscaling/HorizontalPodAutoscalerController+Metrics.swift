import APIMachinery
import Client
import Foundation

extension HorizontalPodAutoscalerController {
    /// Upstream's `computeReplicasForMetric`: one metric's replica proposal, its name for messages and its status.
    func proposal(for spec: MetricSpec, current: Int32, namespace: String, selector: LabelSelector)
        async throws(MetricFailure) -> (Int32, String, MetricStatus)
    {
        switch spec.type {
        case "Resource":
            let source = spec.resource ?? ResourceMetricSource()
            let resource = source.name ?? ""
            do {
                let (replicas, name, value) = try await resourceProposal(
                    resource: resource, target: source.target ?? MetricTarget(), container: nil, current: current,
                    namespace: namespace, selector: selector)
                let status = MetricStatus(
                    type: "Resource", resource: ResourceMetricStatus(name: resource, current: value))
                return (replicas, name, status)
            } catch {
                throw MetricFailure(
                    reason: "FailedGetResourceMetric", inner: error.message,
                    message: "failed to get \(resource) resource metric value: \(error.message)")
            }
        case "ContainerResource":
            let source = spec.containerResource ?? ContainerResourceMetricSource()
            let resource = source.name ?? ""
            do {
                let (replicas, name, value) = try await resourceProposal(
                    resource: resource, target: source.target ?? MetricTarget(), container: source.container ?? "",
                    current: current, namespace: namespace, selector: selector)
                let status = MetricStatus(
                    type: "ContainerResource",
                    containerResource: ContainerResourceMetricStatus(
                        name: resource, current: value, container: source.container))
                return (replicas, name, status)
            } catch {
                throw MetricFailure(
                    reason: "FailedGetContainerResourceMetric", inner: error.message,
                    message: "failed to get \(resource) container resource metric value: \(error.message)")
            }
        case "Pods", "Object":
            // No custom metrics API (custom.metrics.k8s.io) is served here.
            let name = (spec.type == "Pods" ? spec.pods?.metric?.name : spec.object?.metric?.name) ?? ""
            let inner =
                "unable to get metric \(name): unable to fetch metrics from custom metrics API: "
                + "no custom metrics API (custom.metrics.k8s.io) registered"
            let kind = spec.type == "Pods" ? "pods" : "object"
            throw MetricFailure(
                reason: spec.type == "Pods" ? "FailedGetPodsMetric" : "FailedGetObjectMetric", inner: inner,
                message: "failed to get \(kind) metric value: \(inner)")
        case "External":
            let name = spec.external?.metric?.name ?? ""
            let inner =
                "unable to get external metric \(namespace)/\(name): unable to fetch metrics from external metrics "
                + "API: the server could not find the requested resource (get \(name).external.metrics.k8s.io)"
            throw MetricFailure(
                reason: "FailedGetExternalMetric", inner: inner,
                message: "failed to get \(name) external metric value: \(inner)")
        default:
            let inner = "unknown metric source type \"\(spec.type ?? "")\""
            throw MetricFailure(reason: "InvalidMetricSourceType", inner: inner, message: inner)
        }
    }

    /// Upstream's `computeStatusForResourceMetricGeneric`: an average value target or a utilization target over
    /// the selected pods' metrics and requests.
    private func resourceProposal(
        resource: String, target: MetricTarget, container: String?, current: Int32, namespace: String,
        selector: LabelSelector
    ) async throws(MetricsError) -> (Int32, String, MetricValueStatus) {
        let pods = self.pods.list(namespace: namespace, selector: selector)
        let now = context.time.wallNow
        if let averageValue = target.averageValue {
            do {
                let metrics = try await samples(
                    resource, namespace: namespace, selector: selector, container: container)
                let (replicas, average) = try calculator.averageValueReplicas(
                    currentReplicas: current, targetAverage: averageValue.milliValue, resource: resource, pods: pods,
                    metrics: metrics, now: now)
                return (
                    replicas, "\(resource) resource", MetricValueStatus(averageValue: Quantity(milliValue: average))
                )
            } catch {
                throw MetricsError("failed to get \(resource) usage: \(error)")
            }
        }
        guard let utilization = target.averageUtilization else {
            throw MetricsError(
                "invalid resource metric source: neither an average utilization target nor an average value (usage) "
                    + "target was set")
        }
        do {
            let metrics = try await samples(resource, namespace: namespace, selector: selector, container: container)
            let proposal = try calculator.utilizationReplicas(
                currentReplicas: current, targetUtilization: utilization, resource: resource, container: container,
                pods: pods, metrics: metrics, now: now)
            let name =
                container == nil
                ? "\(resource) resource utilization (percentage of request)"
                : "\(resource) container resource utilization (percentage of request)"
            return (
                proposal.replicas, name,
                MetricValueStatus(
                    averageUtilization: proposal.utilization, averageValue: Quantity(milliValue: proposal.average))
            )
        } catch {
            throw MetricsError("failed to get \(resource) utilization: \(error)")
        }
    }

    /// The pods' samples from the metrics source, its errors worded as upstream's replica calculator words them.
    private func samples(_ resource: String, namespace: String, selector: LabelSelector, container: String?)
        async throws -> [String: PodMetric]
    {
        do {
            return try await metrics.resourceMetrics(
                resource: resource, namespace: namespace, selector: selector, container: container
            ).metrics
        } catch {
            throw MetricsError("unable to get metrics for resource \(resource): \(error)")
        }
    }
}

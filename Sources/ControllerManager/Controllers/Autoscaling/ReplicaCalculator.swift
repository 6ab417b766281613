import APIMachinery
import Client
public import Foundation

/// One pod's usage of a resource, summed over its containers, in milli-units, as the resource metrics API reported it.
public struct PodMetric: Sendable, Equatable {
    public var value: Int64
    /// When the sample was taken, and over how long a window.
    public var timestamp: Date
    public var window: Duration

    public init(value: Int64, timestamp: Date, window: Duration = .seconds(30)) {
        self.value = value
        self.timestamp = timestamp
        self.window = window
    }
}

/// A failure to compute a replica count, worded as upstream's replica calculator words it.
struct ReplicaCalculationError: Error, CustomStringConvertible, Equatable {
    var description: String
}

/// Upstream's replica calculator for resource metrics: from the pods a target selects and their metrics, the
/// replica count that brings average usage to the target, ignoring pods that are deleted, failed, pending, not
/// ready yet (CPU only) or without metrics as upstream does, and holding still within the tolerance.
struct ReplicaCalculator: Sendable {
    var tolerance = 0.1
    /// `--horizontal-pod-autoscaler-cpu-initialization-period`: CPU samples of a pod this young count only once
    /// it is ready and a full window was measured since.
    var cpuInitializationPeriod: Duration = .seconds(300)
    /// `--horizontal-pod-autoscaler-initial-readiness-delay`: a pod not ready within this of starting is unready.
    var initialReadinessDelay: Duration = .seconds(30)

    /// The pods in each of upstream's groups.
    struct PodGroups: Equatable {
        var readyCount = 0
        var unready: Set<String> = []
        var missing: Set<String> = []
        var ignored: Set<String> = []
    }

    /// Replicas for a utilization target (percent of the pods' requests): the proposal, the current utilization
    /// and the average usage in milli-units.
    func utilizationReplicas(
        currentReplicas: Int32, targetUtilization: Int32, resource: String, container: String? = nil, pods: [Pod],
        metrics: [String: PodMetric], now: Date
    ) throws(ReplicaCalculationError) -> (replicas: Int32, utilization: Int32, average: Int64) {
        guard !pods.isEmpty else {
            throw ReplicaCalculationError(description: "no pods returned by selector while calculating replica count")
        }
        let groups = group(pods, metrics: metrics, resource: resource, now: now)
        var usable = metrics.filter { !groups.ignored.contains($0.key) && !groups.unready.contains($0.key) }
        guard !usable.isEmpty else {
            throw ReplicaCalculationError(
                description: "did not receive metrics for targeted pods (pods might be unready)")
        }
        let requests = try Self.requests(pods, resource: resource, container: container)
        let (ratio, utilization, average) = try Self.utilizationRatio(
            usable, requests: requests, target: targetUtilization)
        let scaleUpWithUnready = !groups.unready.isEmpty && ratio > 1.0
        if !scaleUpWithUnready && groups.missing.isEmpty {
            if abs(1.0 - ratio) <= tolerance { return (currentReplicas, utilization, average) }
            return (Self.replicas(ratio * Double(groups.readyCount)), utilization, average)
        }
        // Missing pods count as using their whole request (or the target, when above 100%) on the way down and
        // nothing on the way up; unready pods count as using nothing on the way up.
        if ratio < 1.0 {
            let fallback = Int64(max(100, targetUtilization))
            for name in groups.missing { usable[name] = Self.filler((requests[name] ?? 0) * fallback / 100) }
        } else if ratio > 1.0 {
            for name in groups.missing { usable[name] = Self.filler(0) }
        }
        if scaleUpWithUnready {
            for name in groups.unready { usable[name] = Self.filler(0) }
        }
        let (newRatio, _, _) = try Self.utilizationRatio(usable, requests: requests, target: targetUtilization)
        let replicas = settle(current: currentReplicas, ratio: ratio, newRatio: newRatio, counted: usable.count)
        return (replicas, utilization, average)
    }

    /// Replicas for an average-value target (milli-units per pod): the proposal and the average usage.
    func averageValueReplicas(
        currentReplicas: Int32, targetAverage: Int64, resource: String, pods: [Pod], metrics: [String: PodMetric],
        now: Date
    ) throws(ReplicaCalculationError) -> (replicas: Int32, average: Int64) {
        guard !pods.isEmpty else {
            throw ReplicaCalculationError(description: "no pods returned by selector while calculating replica count")
        }
        let groups = group(pods, metrics: metrics, resource: resource, now: now)
        var usable = metrics.filter { !groups.ignored.contains($0.key) && !groups.unready.contains($0.key) }
        guard !usable.isEmpty, targetAverage > 0 else {
            throw ReplicaCalculationError(
                description: "did not receive metrics for targeted pods (pods might be unready)")
        }
        let (ratio, average) = Self.usageRatio(usable, target: targetAverage)
        let scaleUpWithUnready = !groups.unready.isEmpty && ratio > 1.0
        if !scaleUpWithUnready && groups.missing.isEmpty {
            if abs(1.0 - ratio) <= tolerance { return (currentReplicas, average) }
            return (Self.replicas(ratio * Double(groups.readyCount)), average)
        }
        // Missing pods use exactly the target on the way down and nothing on the way up.
        for name in groups.missing { usable[name] = Self.filler(ratio < 1.0 ? targetAverage : 0) }
        if scaleUpWithUnready {
            for name in groups.unready { usable[name] = Self.filler(0) }
        }
        let (newRatio, _) = Self.usageRatio(usable, target: targetAverage)
        return (settle(current: currentReplicas, ratio: ratio, newRatio: newRatio, counted: usable.count), average)
    }

    /// The second pass's answer: no change within the tolerance, or when filling in the missing and unready pods
    /// would turn the direction of the change (by ratio or by pod count) around.
    private func settle(current: Int32, ratio: Double, newRatio: Double, counted: Int) -> Int32 {
        if abs(1.0 - newRatio) <= tolerance || (ratio < 1.0 && newRatio > 1.0) || (ratio > 1.0 && newRatio < 1.0) {
            return current
        }
        let replicas = Self.replicas(newRatio * Double(counted))
        if (newRatio < 1.0 && replicas > current) || (newRatio > 1.0 && replicas < current) { return current }
        return replicas
    }

    /// A proposal rounded up and held within Int32, as a runaway metric must not overflow the replica count.
    static func replicas(_ proposal: Double) -> Int32 {
        let rounded = proposal.rounded(.up)
        guard rounded.isFinite else { return rounded < 0 ? 0 : .max }
        return Int32(max(0, min(Double(Int32.max), rounded)))
    }

    private static func filler(_ value: Int64) -> PodMetric {
        PodMetric(value: value, timestamp: Date(timeIntervalSince1970: 0), window: .zero)
    }

    /// Upstream's `groupPods`: deleted and failed pods are ignored, pending ones unready, ones without a sample
    /// missing; for CPU, a pod that is not ready (or whose sample predates its readiness within the initialization
    /// period) is unready too.
    func group(_ pods: [Pod], metrics: [String: PodMetric], resource: String, now: Date) -> PodGroups {
        var groups = PodGroups()
        for pod in pods {
            let name = pod.metadata.name ?? ""
            if pod.metadata.deletionTimestamp != nil || pod.status.phase == "Failed" {
                groups.ignored.insert(name)
                continue
            }
            if pod.status.phase == "Pending" {
                groups.unready.insert(name)
                continue
            }
            guard let metric = metrics[name] else {
                groups.missing.insert(name)
                continue
            }
            if resource == "cpu" && isUnreadyForCPU(pod, metric: metric, now: now) {
                groups.unready.insert(name)
                continue
            }
            groups.readyCount += 1
        }
        return groups
    }

    private func isUnreadyForCPU(_ pod: Pod, metric: PodMetric, now: Date) -> Bool {
        let ready = pod.status.conditions.first { $0.type == "Ready" }
        guard let ready, let started = pod.status.startTime.flatMap(Timestamp.parse) else { return true }
        let start = Date(timeIntervalSince1970: TimeInterval(started))
        let transition = Date(
            timeIntervalSince1970: TimeInterval(ready.lastTransitionTime.flatMap(Timestamp.parse) ?? 0))
        if start.addingTimeInterval(Self.seconds(cpuInitializationPeriod)) > now {
            return ready.status == "False"
                || metric.timestamp < transition.addingTimeInterval(Self.seconds(metric.window))
        }
        return ready.status == "False" && start.addingTimeInterval(Self.seconds(initialReadinessDelay)) > transition
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        TimeInterval(duration.components.seconds) + TimeInterval(duration.components.attoseconds) / 1e18
    }

    /// Each pod's request for `resource` in milli-units, summed over its containers (or the one named); a
    /// container without a request fails the calculation, as utilization is undefined for it.
    static func requests(_ pods: [Pod], resource: String, container: String? = nil)
        throws(ReplicaCalculationError) -> [String: Int64]
    {
        var result: [String: Int64] = [:]
        for pod in pods {
            var sum: Int64 = 0
            for candidate in pod.spec.containers where container == nil || candidate.name == container {
                guard let request = candidate.resources?.requests[resource] else {
                    throw ReplicaCalculationError(
                        description: "missing request for \(resource) in container \(candidate.name ?? "") "
                            + "of Pod \(pod.metadata.name ?? "")")
                }
                sum += request.milliValue
            }
            result[pod.metadata.name ?? ""] = sum
        }
        return result
    }

    /// Upstream's `GetResourceUtilizationRatio`: usage over requests of the pods with both, as an integer percent,
    /// its ratio to the target, and the average usage.
    static func utilizationRatio(_ metrics: [String: PodMetric], requests: [String: Int64], target: Int32)
        throws(ReplicaCalculationError) -> (ratio: Double, utilization: Int32, average: Int64)
    {
        var usage: Int64 = 0
        var requested: Int64 = 0
        var entries: Int64 = 0
        for (name, metric) in metrics {
            guard let request = requests[name] else { continue }
            usage += metric.value
            requested += request
            entries += 1
        }
        guard requested > 0 else {
            throw ReplicaCalculationError(description: "no metrics returned matched known pods")
        }
        let utilization = Int32(usage * 100 / requested)
        return (Double(utilization) / Double(target), utilization, usage / entries)
    }

    /// Upstream's `GetMetricUsageRatio`: the average usage and its ratio to the target.
    static func usageRatio(_ metrics: [String: PodMetric], target: Int64) -> (ratio: Double, average: Int64) {
        let total = metrics.values.reduce(Int64(0)) { $0 + $1.value }
        let average = total / Int64(max(1, metrics.count))
        return (Double(average) / Double(target), average)
    }
}

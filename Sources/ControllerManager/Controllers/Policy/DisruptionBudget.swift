public import Client

/// Upstream's disruption arithmetic as pure functions: how many pods a budget expects, how many must stay
/// healthy, and how many may be disrupted now.
public enum DisruptionBudget {
    /// The condition type on a budget's status.
    public static let conditionType = "DisruptionAllowed"
    /// Upstream's `DeletionTimeout`: a pod the eviction API marked disrupted but that was never deleted
    /// counts as healthy again after this long.
    public static let deletionTimeoutSeconds: Int64 = 120

    /// Why the expected pod count cannot be known.
    public struct ExpectedCountError: Error, CustomStringConvertible {
        public let description: String
    }

    /// `expectedCount` and `desiredHealthy` for a budget over `podCount` pods whose controllers want
    /// `scale` pods in all (nil when some pod's controller is unknown, which only fails the budgets that
    /// need it: `maxUnavailable` and percentage `minAvailable`).
    public static func expectations(
        _ spec: PodDisruptionBudgetSpec, podCount: Int, scale: () throws -> Int
    ) throws -> (expectedCount: Int, desiredHealthy: Int) {
        if let maxUnavailable = spec.maxUnavailable {
            let expected = try scale()
            let unavailable = try maxUnavailable.scaledValue(total: expected, roundUp: true)
            return (expected, max(0, expected - unavailable))
        }
        switch spec.minAvailable {
        case .int(let value):
            return (podCount, Int(value))
        case .string:
            let expected = try scale()
            let minAvailable = try spec.minAvailable?.scaledValue(total: expected, roundUp: true) ?? 0
            return (expected, minAvailable)
        case nil:
            // Validation requires one of the two; a budget with neither protects nothing.
            return (podCount, 0)
        }
    }

    /// Disruptions allowed: the healthy pods above the desired count, none while no pod is expected.
    public static func disruptionsAllowed(currentHealthy: Int, desiredHealthy: Int, expectedCount: Int) -> Int {
        guard expectedCount > 0 else { return 0 }
        return max(0, currentHealthy - desiredHealthy)
    }

    /// The entries of `disrupted` (pod name → eviction time, seconds since the epoch) still awaited at `now`:
    /// pods that exist, are not being deleted, and were evicted less than the timeout ago.
    public static func pendingDisruptions(
        _ disrupted: [String: Int64], pods: [Pod], now: Int64
    ) -> [String: Int64] {
        let live = Set(pods.filter { !$0.metadata.isDeleting }.compactMap(\.metadata.name))
        return disrupted.filter { name, time in live.contains(name) && time + deletionTimeoutSeconds > now }
    }

    /// Pods that count as healthy: ready, not being deleted, not awaiting a disruption.
    public static func currentHealthy(_ pods: [Pod], disrupted: [String: Int64]) -> Int {
        pods.filter { pod in
            !pod.metadata.isDeleting && disrupted[pod.metadata.name ?? ""] == nil && PodAvailability.isReady(pod)
        }.count
    }
}

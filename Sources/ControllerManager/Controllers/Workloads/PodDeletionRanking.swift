import APIMachinery
public import Client
import Foundation

/// Upstream's `ActivePodsWithRanks`: the order in which a replica set gives up pods when it scales down,
/// cheapest to lose first.
public struct PodDeletionRanking: Sendable {
    /// The annotation that lets users say which pods to remove first (lower goes first), as upstream.
    public static let deletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

    /// Seconds since the epoch, for the logarithmic age buckets.
    public let now: Int64

    public init(now: Int64) {
        self.now = now
    }

    /// The `count` pods of `pods` to delete first; `related` are the pods of every replica set of the same
    /// owner, so a pod doubled up on a node with its siblings goes before a lone one.
    public func podsToDelete(_ pods: [Pod], related: [Pod], count: Int) -> [Pod] {
        guard count < pods.count else { return pods }
        var perNode: [String: Int] = [:]
        for pod in related where PodAvailability.isActive(pod) { perNode[pod.spec.nodeName ?? "", default: 0] += 1 }
        let ranked = pods.map { (pod: $0, rank: perNode[$0.spec.nodeName ?? ""] ?? 0) }
        return Array(ranked.sorted { deleteFirst($0.pod, rank: $0.rank, before: $1.pod, rank: $1.rank) }.prefix(count))
            .map(\.pod)
    }

    /// Whether pod `a` (with `rankA` active sibling pods on its node) should go before pod `b`.
    public func deleteFirst(_ a: Pod, rank rankA: Int, before b: Pod, rank rankB: Int) -> Bool {
        // Unassigned before assigned.
        let nodeA = a.spec.nodeName ?? ""
        let nodeB = b.spec.nodeName ?? ""
        if nodeA != nodeB, nodeA.isEmpty || nodeB.isEmpty { return nodeA.isEmpty }
        // Pending before Unknown before Running.
        let phaseA = Self.phaseOrdinal(a.status.phase)
        let phaseB = Self.phaseOrdinal(b.status.phase)
        if phaseA != phaseB { return phaseA < phaseB }
        // Not ready before ready.
        let readyA = PodAvailability.isReady(a)
        if readyA != PodAvailability.isReady(b) { return !readyA }
        // Lower deletion cost first.
        let costA = Self.deletionCost(a)
        let costB = Self.deletionCost(b)
        if costA != costB { return costA < costB }
        // Doubled up on a node before alone.
        if rankA != rankB { return rankA > rankB }
        // Ready for a shorter time before longer, in logarithmic buckets.
        if readyA {
            let sinceA = PodAvailability.readySince(a)
            let sinceB = PodAvailability.readySince(b)
            if sinceA != sinceB, let order = newerFirst(sinceA, sinceB, a, b) { return order }
        }
        // More container restarts before fewer.
        let restartsA = Self.maxRestarts(a)
        let restartsB = Self.maxRestarts(b)
        if restartsA != restartsB { return restartsA > restartsB }
        // Newer before older, in logarithmic buckets.
        let createdA = a.metadata.creationTimestamp.flatMap(Timestamp.parse)
        let createdB = b.metadata.creationTimestamp.flatMap(Timestamp.parse)
        if createdA != createdB, let order = newerFirst(createdA, createdB, a, b) { return order }
        return false
    }

    /// Orders two different times as upstream's `LogarithmicScaleDown`: a missing time first, then the
    /// younger by whole powers of two of age, then by UID; nil when that still leaves them equal.
    private func newerFirst(_ timeA: Int64?, _ timeB: Int64?, _ a: Pod, _ b: Pod) -> Bool? {
        guard let timeA, let timeB else { return timeA == nil }
        let difference = Self.logarithmicRankDifference(timeA, timeB, now: now)
        if difference != 0 { return difference < 0 }
        let uidA = a.metadata.uid ?? ""
        let uidB = b.metadata.uid ?? ""
        return uidA == uidB ? nil : uidA < uidB
    }

    /// ⌊log2(age in ns)⌋ of `a` minus that of `b` (−1 for a time not in the past), as upstream's
    /// `logarithmicRankDiff`.
    static func logarithmicRankDifference(_ a: Int64, _ b: Int64, now: Int64) -> Int64 {
        func bucket(_ time: Int64) -> Int64 {
            let age = (now - time).multipliedReportingOverflow(by: 1_000_000_000)
            guard age.partialValue > 0, !age.overflow else { return -1 }
            return Int64(log2(Double(age.partialValue)))
        }
        return bucket(a) - bucket(b)
    }

    static func phaseOrdinal(_ phase: String?) -> Int {
        switch phase {
        case "Pending": return 0
        case "Unknown": return 1
        case "Running": return 2
        default: return 0
        }
    }

    /// The pod's deletion cost; an absent or malformed annotation counts as 0, as upstream's.
    static func deletionCost(_ pod: Pod) -> Int32 {
        pod.metadata.annotations[deletionCostAnnotation].flatMap { Int32($0) } ?? 0
    }

    /// The highest restart count among the pod's containers and sidecars (init containers that restart).
    static func maxRestarts(_ pod: Pod) -> Int32 {
        let sidecars = Set(pod.spec.initContainers.filter { $0.restartPolicy == "Always" }.compactMap(\.name))
        let statuses =
            pod.status.containerStatuses + pod.status.initContainerStatuses.filter { sidecars.contains($0.name ?? "") }
        return statuses.map { $0.restartCount ?? 0 }.max() ?? 0
    }
}

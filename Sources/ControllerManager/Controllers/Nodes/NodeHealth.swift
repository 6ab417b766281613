import APIMachinery
import Client
import Foundation

/// What the node lifecycle controller remembers of a node between passes (upstream's `nodeHealthData`): the
/// Ready condition it last saw (only that, not the whole status upstream keeps, as nothing else is read),
/// when it last saw a sign of life, and the Lease renewal that was.
struct NodeHealth: Sendable, Equatable {
    var ready: NodeCondition?
    /// The controller's time of the last heartbeat or Lease renewal it noticed.
    var probeTimestamp: Date
    var readyTransitionTimestamp: Date
    var leaseRenewTime: Date?
}

/// Upstream's `tryUpdateNodeHealth` as a pure function: from a node, its Lease and what was remembered, the new
/// memory, the grace period that applies, the Ready condition as observed, and the status to write when the
/// node has gone silent for longer than the grace period.
struct NodeHealthCheck: Sendable {
    /// `--node-monitor-grace-period`.
    var monitorGracePeriod: Duration
    /// `--node-startup-grace-period`, for nodes that never posted a Ready condition.
    var startupGracePeriod: Duration

    /// The verdict of one look at a node.
    struct Result: Sendable {
        var health: NodeHealth
        var gracePeriod: Duration
        /// The Ready condition as the node had it (a stand-in dated at creation when it has none).
        var observedReady: NodeCondition
        /// The Ready condition after this controller's changes (nil when the node has none).
        var currentReady: NodeCondition?
        /// The node with its conditions set to Unknown, to write through the status subresource; after the
        /// write succeeds the caller takes `healthAfterWrite`.
        var statusUpdate: Node?
        var healthAfterWrite: NodeHealth?
    }

    /// Upstream's condition types set to Unknown when a node goes silent (`NetworkUnavailable` is left alone:
    /// the network provider owns it).
    static let silencedConditions = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"]

    func check(node: Node, lease: Lease?, saved: NodeHealth?, now: Date) -> Result {
        let created = Timestamp.date(node.metadata.creationTimestamp) ?? now
        let currentReady = node.status.condition("Ready")
        var health = saved
        let observedReady: NodeCondition
        let gracePeriod: Duration
        if let currentReady {
            observedReady = currentReady
            gracePeriod = monitorGracePeriod
        } else {
            // A kubelet that never posted status: judge it from its creation, with the startup grace period.
            observedReady = NodeCondition(
                type: "Ready", status: "Unknown", lastHeartbeatTime: node.metadata.creationTimestamp,
                lastTransitionTime: node.metadata.creationTimestamp)
            gracePeriod = startupGracePeriod
            if health != nil {
                health?.ready = currentReady
            } else {
                health = NodeHealth(ready: currentReady, probeTimestamp: created, readyTransitionTimestamp: created)
            }
        }
        // Read after the stand-in above, as upstream does: a node still without Ready keeps its memory.
        let savedReady = health?.ready
        let savedLease = health?.leaseRenewTime
        var next: NodeHealth
        if let health, !(savedReady == nil && currentReady != nil) {
            next = health
            if let savedReady, let currentReady, savedReady.lastHeartbeatTime != currentReady.lastHeartbeatTime {
                // A new heartbeat: the node is alive now; a changed transition time means Ready changed too.
                let transition =
                    savedReady.lastTransitionTime != currentReady.lastTransitionTime
                    ? now : health.readyTransitionTimestamp
                next = NodeHealth(
                    ready: currentReady, probeTimestamp: now, readyTransitionTimestamp: transition,
                    leaseRenewTime: health.leaseRenewTime)
            }
        } else {
            // First sight of a node with a Ready condition (or a controller restart): assume alive now.
            next = NodeHealth(
                ready: currentReady, probeTimestamp: now, readyTransitionTimestamp: now,
                leaseRenewTime: health?.leaseRenewTime)
        }
        // A renewed Lease is a sign of life even when the status is not posted.
        if let renewed = Timestamp.date(lease?.spec.renewTime), savedLease.map({ $0 < renewed }) ?? true {
            next.leaseRenewTime = renewed
            next.probeTimestamp = now
        }
        var result = Result(
            health: next, gracePeriod: gracePeriod, observedReady: observedReady, currentReady: currentReady)
        guard now > next.probeTimestamp.addingTimeInterval(gracePeriod.timeInterval) else { return result }

        var updated = node
        let stamp = Timestamp.format(epochSeconds: Int64(now.timeIntervalSince1970))
        for type in Self.silencedConditions {
            if let index = updated.status.conditions.firstIndex(where: { $0.type == type }) {
                guard updated.status.conditions[index].status != "Unknown" else { continue }
                updated.status.conditions[index].status = "Unknown"
                updated.status.conditions[index].reason = "NodeStatusUnknown"
                updated.status.conditions[index].message = "Kubelet stopped posting node status."
                updated.status.conditions[index].lastTransitionTime = stamp
            } else {
                updated.status.conditions.append(
                    NodeCondition(
                        type: type, status: "Unknown", lastHeartbeatTime: node.metadata.creationTimestamp,
                        lastTransitionTime: stamp, message: "Kubelet never posted node status.",
                        reason: "NodeStatusNeverUpdated"))
            }
        }
        let newReady = updated.status.condition("Ready")
        guard newReady != observedReady else { return result }
        result.currentReady = newReady
        result.statusUpdate = updated
        result.healthAfterWrite = NodeHealth(
            ready: newReady, probeTimestamp: next.probeTimestamp, readyTransitionTimestamp: now,
            leaseRenewTime: Timestamp.date(lease?.spec.renewTime))
        return result
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    var timeInterval: TimeInterval { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

import Client

/// A zone's health as upstream's node lifecycle controller judges it, from the Ready conditions of its nodes.
enum ZoneState: String, Sendable, Hashable {
    case initial = "Initial"
    case normal = "Normal"
    case partialDisruption = "PartialDisruption"
    case fullDisruption = "FullDisruption"
}

/// The eviction (NoExecute tainting) rates and thresholds of `--node-eviction-rate` and its companions.
struct EvictionPolicy: Sendable, Hashable {
    /// `--node-eviction-rate`: nodes tainted per second in a healthy zone.
    var evictionQPS: Double = 0.1
    /// `--secondary-node-eviction-rate`: nodes per second in a partially disrupted large zone.
    var secondaryEvictionQPS: Double = 0.01
    /// `--large-cluster-size-threshold`: zones up to this size stop evicting when partially disrupted.
    var largeClusterThreshold: Int = 50
    /// `--unhealthy-zone-threshold`: the share of not-ready nodes (at least three) that makes a zone unhealthy.
    var unhealthyZoneThreshold: Double = 0.55

    /// Upstream's `ComputeZoneState`: the zone's number of not-ready nodes and its state. A node without a Ready
    /// condition counts as not ready.
    func zoneState(_ readyConditions: [NodeCondition?]) -> (notReady: Int, state: ZoneState) {
        let ready = readyConditions.filter { $0?.status == "True" }.count
        let notReady = readyConditions.count - ready
        if ready == 0 && notReady > 0 { return (notReady, .fullDisruption) }
        if notReady > 2 && Double(notReady) / Double(notReady + ready) >= unhealthyZoneThreshold {
            return (notReady, .partialDisruption)
        }
        return (notReady, .normal)
    }

    /// The tainting rate for a zone of `size` nodes in `state` (upstream's `setLimiterInZone`): the primary rate
    /// when healthy or fully down (a dead zone is evicted normally unless every zone is), the secondary rate in
    /// a large partially disrupted zone, nothing in a small one.
    func qps(for state: ZoneState, zoneSize: Int) -> Double {
        switch state {
        case .initial, .normal, .fullDisruption: evictionQPS
        case .partialDisruption: zoneSize > largeClusterThreshold ? secondaryEvictionQPS : 0
        }
    }
}

/// The zone key of a node (upstream's `GetZoneKey`): region and zone from the topology labels (or their
/// deprecated beta names), "" when the node has neither.
func zoneKey(of node: Node) -> String {
    let labels = node.metadata.labels
    let region = labels["topology.kubernetes.io/region"] ?? labels["failure-domain.beta.kubernetes.io/region"] ?? ""
    let zone = labels["topology.kubernetes.io/zone"] ?? labels["failure-domain.beta.kubernetes.io/zone"] ?? ""
    if region.isEmpty && zone.isEmpty { return "" }
    return region + ":\u{0}:" + zone
}

/// The zones' states across monitor passes and what a pass changes (upstream's `handleDisruption`), kept pure
/// so the transitions are tested without a cluster.
struct ZoneDisruption: Sendable {
    /// What the controller must do after a pass.
    struct Outcome: Sendable, Equatable {
        /// New tainting rates for zones whose state changed.
        var limiters: [String: Double] = [:]
        /// Every zone just went down: NoExecute taints are lifted from every node and tainting stops.
        var enteredFullDisruption = false
        /// Some node is back after every zone was down: every node's probe time restarts now.
        var exitedFullDisruption = false
    }

    let policy: EvictionPolicy
    private(set) var states: [String: ZoneState] = [:]

    init(policy: EvictionPolicy) { self.policy = policy }

    /// Takes a pass's Ready conditions by zone and returns the changes to make.
    mutating func observe(_ conditionsByZone: [String: [NodeCondition?]]) -> Outcome {
        var newStates: [String: ZoneState] = [:]
        var allAreFullyDisrupted = true
        for (zone, conditions) in conditionsByZone {
            let state = policy.zoneState(conditions).state
            if state != .fullDisruption { allAreFullyDisrupted = false }
            newStates[zone] = state
            if states[zone] == nil { states[zone] = .initial }
        }
        var allWereFullyDisrupted = true
        for (zone, state) in states {
            guard conditionsByZone[zone] != nil else {
                states[zone] = nil
                continue
            }
            if state != .fullDisruption { allWereFullyDisrupted = false }
        }
        var outcome = Outcome()
        // Nothing changes while every zone was and is down (no nodes at all counts as down).
        guard !allAreFullyDisrupted || !allWereFullyDisrupted else { return outcome }
        if allAreFullyDisrupted {
            outcome.enteredFullDisruption = true
            for zone in states.keys {
                outcome.limiters[zone] = 0
                states[zone] = .fullDisruption
            }
            return outcome
        }
        if allWereFullyDisrupted {
            outcome.exitedFullDisruption = true
            for zone in states.keys {
                let state = newStates[zone] ?? .normal
                outcome.limiters[zone] = policy.qps(for: state, zoneSize: conditionsByZone[zone]?.count ?? 0)
                states[zone] = state
            }
            return outcome
        }
        for (zone, state) in states {
            guard let newState = newStates[zone], newState != state else { continue }
            outcome.limiters[zone] = policy.qps(for: newState, zoneSize: conditionsByZone[zone]?.count ?? 0)
            states[zone] = newState
        }
        return outcome
    }
}

import Client

/// Upstream's well-known node taint keys (`k8s.io/api/core/v1`), shared by the node controllers.
enum NodeTaintKey {
    static let notReady = "node.kubernetes.io/not-ready"
    static let unreachable = "node.kubernetes.io/unreachable"
    static let unschedulable = "node.kubernetes.io/unschedulable"
    static let memoryPressure = "node.kubernetes.io/memory-pressure"
    static let diskPressure = "node.kubernetes.io/disk-pressure"
    static let pidPressure = "node.kubernetes.io/pid-pressure"
    static let networkUnavailable = "node.kubernetes.io/network-unavailable"
}

/// Taint effects as the API spells them.
enum TaintEffect {
    static let noSchedule = "NoSchedule"
    static let noExecute = "NoExecute"
}

/// Which taint a node condition in a given status calls for (upstream's `nodeConditionToTaintKeyStatusMap`,
/// TaintNodesByCondition).
enum ConditionTaints {
    static let byCondition: [String: [String: String]] = [
        "Ready": ["False": NodeTaintKey.notReady, "Unknown": NodeTaintKey.unreachable],
        "MemoryPressure": ["True": NodeTaintKey.memoryPressure],
        "DiskPressure": ["True": NodeTaintKey.diskPressure],
        "NetworkUnavailable": ["True": NodeTaintKey.networkUnavailable],
        "PIDPressure": ["True": NodeTaintKey.pidPressure],
    ]

    /// Every taint key some condition maps to.
    static let keys: Set<String> = Set(byCondition.values.flatMap(\.values))

    /// The NoSchedule taints `node`'s conditions and `spec.unschedulable` call for, in condition order.
    static func noScheduleTaints(for node: Node) -> [Taint] {
        var taints: [Taint] = []
        for condition in node.status.conditions {
            if let key = byCondition[condition.type ?? ""]?[condition.status ?? ""] {
                taints.append(Taint(key: key, effect: TaintEffect.noSchedule))
            }
        }
        if node.spec.unschedulable == true {
            taints.append(Taint(key: NodeTaintKey.unschedulable, effect: TaintEffect.noSchedule))
        }
        return taints
    }

    /// The taints this controller owns on `node` and how they must change: the NoSchedule taints that are
    /// missing, and those present that no condition calls for any more.
    static func noScheduleDiff(for node: Node) -> (add: [Taint], remove: [Taint]) {
        let wanted = noScheduleTaints(for: node)
        let owned = node.spec.taints.filter {
            $0.effect == TaintEffect.noSchedule && ($0.key == NodeTaintKey.unschedulable || keys.contains($0.key ?? ""))
        }
        let add = wanted.filter { want in !owned.contains { $0.matches(want) } }
        let remove = owned.filter { have in !wanted.contains { $0.matches(have) } }
        return (add, remove)
    }
}

extension Taint {
    /// Whether both taints have the same key and effect (upstream's `MatchTaint`): a node has at most one
    /// taint per key and effect.
    func matches(_ other: Taint) -> Bool { key == other.key && effect == other.effect }
}

extension Toleration {
    /// Whether this toleration tolerates `taint` (upstream's `ToleratesTaint`): an empty effect or key matches
    /// any, `Exists` ignores the value, `Equal` (or no operator) compares it.
    func tolerates(_ taint: Taint) -> Bool {
        if let effect, !effect.isEmpty, effect != taint.effect { return false }
        if let key, !key.isEmpty, key != taint.key { return false }
        switch self.operator ?? "" {
        case "", "Equal": return (value ?? "") == (taint.value ?? "")
        case "Exists": return true
        default: return false
        }
    }
}

extension NodeStatus {
    /// The condition of `type`, if the node reports it.
    func condition(_ type: String) -> NodeCondition? { conditions.first { $0.type == type } }
}

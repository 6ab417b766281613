public import Client

/// Upstream's daemon set placement rules as pure functions: the tolerations every daemon pod gets, which
/// nodes should run (and keep running) a daemon pod, the node affinity that pins a pod to its node, and
/// the pod template with its revision labels.
public enum DaemonSetRules {
    /// The deprecated `pod-template-generation` label upstream still sets.
    public static let templateGenerationLabel = "pod-template-generation"

    /// Upstream's `AddOrUpdateDaemonPodTolerations`: daemons ride out not-ready and unreachable nodes,
    /// resource pressure and cordoning, and, on the host network, a node whose network is not ready.
    public static func defaultTolerations(hostNetwork: Bool) -> [Toleration] {
        var tolerations = [
            Toleration(effect: "NoExecute", key: "node.kubernetes.io/not-ready", operator: "Exists"),
            Toleration(effect: "NoExecute", key: "node.kubernetes.io/unreachable", operator: "Exists"),
            Toleration(effect: "NoSchedule", key: "node.kubernetes.io/disk-pressure", operator: "Exists"),
            Toleration(effect: "NoSchedule", key: "node.kubernetes.io/memory-pressure", operator: "Exists"),
            Toleration(effect: "NoSchedule", key: "node.kubernetes.io/pid-pressure", operator: "Exists"),
            Toleration(effect: "NoSchedule", key: "node.kubernetes.io/unschedulable", operator: "Exists"),
        ]
        if hostNetwork {
            tolerations.append(
                Toleration(effect: "NoSchedule", key: "node.kubernetes.io/network-unavailable", operator: "Exists"))
        }
        return tolerations
    }

    /// `tolerations` with each default added unless one with the same key, operator, value and effect is there.
    public static func addingDefaultTolerations(_ tolerations: [Toleration], hostNetwork: Bool) -> [Toleration] {
        var result = tolerations
        for toleration in defaultTolerations(hostNetwork: hostNetwork) {
            let present = result.contains {
                $0.key == toleration.key && $0.effect == toleration.effect
                    && ($0.operator ?? "Equal") == toleration.operator && ($0.value ?? "") == (toleration.value ?? "")
            }
            if !present { result.append(toleration) }
        }
        return result
    }

    /// The template daemon pods are made from: the set's, with the default tolerations and the revision's
    /// hash and the set's generation as labels (upstream's `CreatePodTemplate`).
    public static func podTemplate(_ set: DaemonSet, hash: String) -> PodTemplateSpec {
        var template = set.spec.template ?? PodTemplateSpec()
        var metadata = template.metadata ?? ObjectMeta()
        metadata.labels[StatefulSetIdentity.revisionLabel] = hash
        if let generation = set.metadata.generation {
            metadata.labels[templateGenerationLabel] = String(generation)
        }
        template.metadata = metadata
        var spec = template.spec ?? PodSpec()
        spec.tolerations = addingDefaultTolerations(spec.tolerations, hostNetwork: spec.hostNetwork ?? false)
        template.spec = spec
        return template
    }

    /// Whether a daemon pod should be placed on `node`, and whether one already there may stay (a
    /// NoSchedule taint the pod does not tolerate stops new pods only; a NoExecute one evicts too).
    public static func placement(_ node: Node, template: PodTemplateSpec) -> (shouldRun: Bool, shouldContinue: Bool) {
        let spec = template.spec ?? PodSpec()
        let nodeName = node.metadata.name ?? ""
        if let pinned = spec.nodeName, !pinned.isEmpty, pinned != nodeName { return (false, false) }
        guard matchesNodeSelector(spec, node: node) else { return (false, false) }
        let tolerations = addingDefaultTolerations(spec.tolerations, hostNetwork: spec.hostNetwork ?? false)
        let untolerated = node.spec.taints.filter { taint in
            (taint.effect == "NoSchedule" || taint.effect == "NoExecute")
                && !tolerations.contains { tolerates($0, taint) }
        }
        if untolerated.isEmpty { return (true, true) }
        return (false, !untolerated.contains { $0.effect == "NoExecute" })
    }

    /// Whether `toleration` tolerates `taint` (upstream's `ToleratesTaint`).
    public static func tolerates(_ toleration: Toleration, _ taint: Taint) -> Bool {
        if let effect = toleration.effect, !effect.isEmpty, effect != taint.effect { return false }
        if let key = toleration.key, !key.isEmpty, key != taint.key { return false }
        switch toleration.operator ?? "Equal" {
        case "Exists": return true
        case "Equal", "": return (toleration.value ?? "") == (taint.value ?? "")
        default: return false
        }
    }

    /// The pod's `nodeSelector` and required node affinity both admit `node`.
    public static func matchesNodeSelector(_ spec: PodSpec, node: Node) -> Bool {
        let labels = node.metadata.labels
        for (key, value) in spec.nodeSelector where labels[key] != value { return false }
        guard let terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms
        else { return true }
        // Terms are ORed; an empty term matches nothing, as upstream.
        return terms.contains { term in
            guard !term.matchExpressions.isEmpty || !term.matchFields.isEmpty else { return false }
            return term.matchExpressions.allSatisfy { matches($0, value: labels[$0.key ?? ""]) }
                && term.matchFields.allSatisfy { $0.key == "metadata.name" && matches($0, value: node.metadata.name) }
        }
    }

    /// One node selector requirement against the value its key has (nil when absent).
    static func matches(_ requirement: NodeSelectorRequirement, value: String?) -> Bool {
        switch requirement.operator {
        case "In": return value.map { requirement.values.contains($0) } ?? false
        case "NotIn": return value.map { !requirement.values.contains($0) } ?? true
        case "Exists": return value != nil
        case "DoesNotExist": return value == nil
        case "Gt", "Lt":
            guard let value, let number = Int64(value), requirement.values.count == 1,
                let bound = Int64(requirement.values[0])
            else { return false }
            return requirement.operator == "Gt" ? number > bound : number < bound
        default: return false
        }
    }

    /// `affinity` with its required node terms replaced by one naming `nodeName`, so the scheduler binds
    /// the pod there (upstream's `ReplaceDaemonSetPodNodeNameNodeAffinity`).
    public static func pinning(_ affinity: Affinity?, to nodeName: String) -> Affinity {
        var affinity = affinity ?? Affinity()
        var nodeAffinity = affinity.nodeAffinity ?? NodeAffinity()
        var requirement = NodeSelectorRequirement()
        requirement.key = "metadata.name"
        requirement.operator = "In"
        requirement.values = [nodeName]
        var term = NodeSelectorTerm()
        term.matchFields = [requirement]
        var selector = NodeSelector()
        selector.nodeSelectorTerms = [term]
        nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = selector
        affinity.nodeAffinity = nodeAffinity
        return affinity
    }

    /// The node a daemon pod is on or pinned to (upstream's `GetTargetNodeName`).
    public static func targetNode(_ pod: Pod) -> String? {
        if let name = pod.spec.nodeName, !name.isEmpty { return name }
        let terms = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms
        for term in terms ?? [] {
            for field in term.matchFields where field.key == "metadata.name" && field.operator == "In" {
                if field.values.count == 1 { return field.values[0] }
            }
        }
        return nil
    }

    /// How many pods may be unavailable and how many may surge during a rolling update over `desired`
    /// nodes (defaults 1 and 0); a surge of 0 with 0 unavailable is raised to 1 unavailable, as upstream.
    public static func rollingBounds(_ set: DaemonSet, desired: Int) -> (maxUnavailable: Int, maxSurge: Int) {
        let rolling = set.spec.updateStrategy?.rollingUpdate
        let surge = (try? (rolling?.maxSurge ?? .int(0)).scaledValue(total: desired, roundUp: true)) ?? 0
        var unavailable = (try? (rolling?.maxUnavailable ?? .int(1)).scaledValue(total: desired, roundUp: false)) ?? 1
        if surge == 0, unavailable == 0 { unavailable = 1 }
        return (unavailable, surge)
    }
}

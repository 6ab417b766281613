import APIMachinery
import Client

/// A label key and value that name one topology domain (`topology.kubernetes.io/zone=a`).
struct TopologyPair: Sendable, Hashable {
    var key: String
    var value: String

    // Filter looks pairs up for every node. A table's pairs mostly share one or two keys, so the value alone
    // tells them apart: hashing only it, and comparing it first, halves the bytes hashed per lookup.
    func hash(into hasher: inout Hasher) { hasher.combine(value) }

    static func == (a: TopologyPair, b: TopologyPair) -> Bool { a.value == b.value && a.key == b.key }
}

/// A pod (anti-)affinity term ready for matching, as upstream's `framework.AffinityTerm`: the namespaces
/// it covers, its selectors parsed once, and a weight for preferred terms.
struct AffinityTerm: Sendable, Equatable {
    var namespaces: Set<String>
    /// nil matches no namespace (an absent `namespaceSelector`); an empty selector matches every one.
    var namespaceSelector: LabelSelector?
    /// nil matches no pod (an absent `labelSelector`).
    var selector: LabelSelector?
    var topologyKey: String
    var weight: Int64

    /// Reads `term` of `pod`; `matchLabelKeys` and `mismatchLabelKeys` become selector requirements on the
    /// pod's own label values, as the API server merges them since v1.31 (idempotent if it already did).
    init(_ term: PodAffinityTerm, of pod: Pod, weight: Int64 = 0) throws(APIError) {
        namespaces = Set(term.namespaces)
        if namespaces.isEmpty && term.namespaceSelector == nil { namespaces = [pod.metadata.namespace ?? ""] }
        namespaceSelector = try term.namespaceSelector?.labelSelector()
        selector = try term.labelSelector?.labelSelector()
        if var selector {
            let labels = pod.metadata.labels
            for key in term.matchLabelKeys {
                if let value = labels[key] { selector.requirements.append(.in(key, [value])) }
            }
            for key in term.mismatchLabelKeys {
                if let value = labels[key] { selector.requirements.append(.notIn(key, [value])) }
            }
            self.selector = selector
        }
        topologyKey = term.topologyKey ?? ""
        self.weight = weight
    }

    /// Whether `pod` (whose namespace carries `namespaceLabels`) is one of the pods this term selects.
    func matches(_ pod: Pod, namespaceLabels: [String: String]?) -> Bool {
        covers(namespace: pod.metadata.namespace ?? "", labels: namespaceLabels)
            && (selector?.matches(pod.metadata.labels) ?? false)
    }

    /// A namespace listed, or selected by its labels (an unknown namespace matches only an empty selector).
    private func covers(namespace: String, labels: [String: String]?) -> Bool {
        if namespaces.contains(namespace) { return true }
        guard let namespaceSelector else { return false }
        if namespaceSelector.isEverything { return true }
        return labels.map(namespaceSelector.matches) ?? false
    }

    /// The domain this term's topology key names on a node with `labels`, if the node has the label.
    func pair(on labels: [String: String]) -> TopologyPair? {
        labels[topologyKey].map { TopologyPair(key: topologyKey, value: $0) }
    }

    /// Whether matching needs the labels of the pod's namespace (only a term with a namespace selector does).
    var readsNamespaceLabels: Bool { namespaceSelector.map { !$0.isEverything } ?? false }
}

/// A pod's (anti-)affinity terms, parsed.
struct PodAffinityTerms: Sendable {
    var requiredAffinity: [AffinityTerm] = []
    var requiredAntiAffinity: [AffinityTerm] = []
    var preferredAffinity: [AffinityTerm] = []
    var preferredAntiAffinity: [AffinityTerm] = []
    /// Whether any of the terms needs the labels of the namespace of the pods it is matched against (kept, as
    /// it is asked for every pod in the cluster each cycle).
    private(set) var readsNamespaceLabels = false

    init(_ pod: Pod) throws(APIError) {
        let affinity = pod.spec.affinity
        for term in affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [] {
            requiredAffinity.append(try AffinityTerm(term, of: pod))
        }
        for term in affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [] {
            requiredAntiAffinity.append(try AffinityTerm(term, of: pod))
        }
        for weighted in affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [] {
            guard let term = weighted.podAffinityTerm else { continue }
            preferredAffinity.append(try AffinityTerm(term, of: pod, weight: Int64(weighted.weight ?? 0)))
        }
        for weighted in affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [] {
            guard let term = weighted.podAffinityTerm else { continue }
            preferredAntiAffinity.append(try AffinityTerm(term, of: pod, weight: Int64(weighted.weight ?? 0)))
        }
        readsNamespaceLabels = (requiredAffinity + requiredAntiAffinity + preferredAffinity + preferredAntiAffinity)
            .contains { $0.readsNamespaceLabels }
    }

    /// Terms of a pod already placed: a selector that no longer parses selects nothing rather than failing
    /// every other pod's cycle.
    static func existing(_ pod: Pod) -> PodAffinityTerms? {
        guard pod.spec.affinity?.podAffinity != nil || pod.spec.affinity?.podAntiAffinity != nil else { return nil }
        return try? PodAffinityTerms(pod)
    }

    /// Upstream's `podMatchesAllAffinityTerms`: false when there are no terms.
    static func all(_ terms: [AffinityTerm], match pod: Pod, namespaceLabels: [String: String]?) -> Bool {
        !terms.isEmpty && terms.allSatisfy { $0.matches(pod, namespaceLabels: namespaceLabels) }
    }
}

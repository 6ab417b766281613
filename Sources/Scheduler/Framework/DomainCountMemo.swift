import Synchronization

/// What one node adds to a count per topology domain: `count` pods in domain `pair` of count table `slot`.
struct DomainContribution: Sendable {
    var slot: Int
    var pair: TopologyPair
    var count: Int64
}

/// Counts per topology domain that a PreFilter derives from each node on its own, kept across cycles per
/// distinct question (`Key`: the selectors, namespace and whatever else the per-node count reads). A cycle
/// recounts only the nodes whose `NodeInfo.generation` changed since the question was last asked (the pod
/// just assumed, the bindings just confirmed), not every pod on every node as upstream's PreFilter does.
/// Exact as long as `contributions` is a function of the key and the node alone.
final class DomainCountMemo<Key: Equatable & Sendable>: Sendable {
    private struct Entry {
        var key: Key
        /// The generation of the node at each position when its contributions were taken.
        var generations: [UInt64]
        var contributions: [[DomainContribution]]
        /// Per slot: domain → summed count.
        var totals: [[TopologyPair: Int64]]
        /// Per slot: domain → how many contributions it sums (a domain counted 0 stays until none is left).
        var references: [[TopologyPair: Int]]
        var lastUse: UInt64
    }

    private struct State {
        var entries: [Entry] = []
        var clock: UInt64 = 0
    }

    private let state = Mutex(State())
    private let slots: Int
    private let capacity: Int

    /// `slots` count tables per question; at most `capacity` questions are kept (least recently asked go).
    init(slots: Int, capacity: Int = 16) {
        self.slots = slots
        self.capacity = capacity
    }

    /// Per slot the domain counts over `nodes` for `key`; `contributions` is asked only of nodes that
    /// changed since the last call with an equal key (of every node the first time).
    func counts(
        for key: Key, nodes: [NodeInfo], contributions: (NodeInfo) -> [DomainContribution]
    ) -> [[TopologyPair: Int64]] {
        state.withLock { state in
            state.clock += 1
            let position: Int
            if let found = state.entries.firstIndex(where: { $0.key == key }) {
                position = found
            } else {
                if state.entries.count >= capacity,
                    let oldest = state.entries.indices.min(by: {
                        state.entries[$0].lastUse < state.entries[$1].lastUse
                    })
                {
                    state.entries.remove(at: oldest)
                }
                state.entries.append(empty(key))
                position = state.entries.count - 1
            }
            state.entries[position].lastUse = state.clock
            refresh(&state.entries[position], nodes: nodes, contributions: contributions)
            return state.entries[position].totals
        }
    }

    private func empty(_ key: Key) -> Entry {
        Entry(
            key: key, generations: [], contributions: [],
            totals: Array(repeating: [:], count: slots), references: Array(repeating: [:], count: slots),
            lastUse: 0)
    }

    private func refresh(_ entry: inout Entry, nodes: [NodeInfo], contributions: (NodeInfo) -> [DomainContribution]) {
        if entry.generations.count != nodes.count {
            // Nodes came or went: positions no longer line up with what was counted, so count afresh.
            entry = empty(entry.key)
            entry.generations = Array(repeating: 0, count: nodes.count)
            entry.contributions = Array(repeating: [], count: nodes.count)
            for (position, node) in nodes.enumerated() {
                entry.generations[position] = node.generation
                let added = contributions(node)
                Self.apply(added, sign: 1, to: &entry)
                entry.contributions[position] = added
            }
            return
        }
        // Generations are unique per node state, so a node moved to another position also shows as changed.
        // Indexed rather than iterated: the scan reads each node's generation in place, where a loop over the
        // values would copy (retain and release) every node to find the one or two that changed.
        for position in nodes.indices where entry.generations[position] != nodes[position].generation {
            Self.apply(entry.contributions[position], sign: -1, to: &entry)
            let added = contributions(nodes[position])
            Self.apply(added, sign: 1, to: &entry)
            entry.contributions[position] = added
            entry.generations[position] = nodes[position].generation
        }
    }

    private static func apply(_ contributions: [DomainContribution], sign: Int64, to entry: inout Entry) {
        for contribution in contributions {
            let slot = contribution.slot
            let references = entry.references[slot][contribution.pair, default: 0] + Int(sign)
            if references > 0 {
                entry.references[slot][contribution.pair] = references
                entry.totals[slot][contribution.pair, default: 0] += sign * contribution.count
            } else {
                entry.references[slot][contribution.pair] = nil
                entry.totals[slot][contribution.pair] = nil
            }
        }
    }
}

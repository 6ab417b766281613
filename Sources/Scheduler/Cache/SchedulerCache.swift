public import Client
import NIOConcurrencyHelpers

/// The scheduler's view of nodes and the pods on them: bound pods from the informers, plus pods it has
/// assumed onto a node while their binding is in flight, so the next pod is scheduled at once against
/// what the cluster will be. An assumed pod whose binding was sent but never seen bound expires.
public final class SchedulerCache: Sendable {
    struct Assumed {
        var node: String
        /// Set once binding finished; the pod is dropped if the informer has not confirmed it by then.
        var deadline: ContinuousClock.Instant?
    }

    struct State {
        var nodes: [NodeInfo] = []
        var index: [String: Int] = [:]
        /// Pod UID → node name, for every pod counted on a node.
        var podNode: [String: String] = [:]
        var assumed: [String: Assumed] = [:]
        /// Bound pods whose node the cache does not know yet, by node name.
        var waiting: [String: [PodInfo]] = [:]
        var summary = ClusterSummary()
        /// Nodes changed since the loop's snapshot was last brought up to date.
        var dirty: Set<String> = []
        /// A node was added or removed: the loop's snapshot is rebuilt, not patched.
        var structureChanged = true
    }

    private let state = NIOLockedValueBox(State())
    private let time: any TimeSource
    /// How long after its binding an assumed pod may stay unconfirmed.
    private let assumedTTL: Duration

    public init(time: any TimeSource = SystemTime(), assumedTTL: Duration = .seconds(30)) {
        self.time = time
        self.assumedTTL = assumedTTL
    }

    public var nodeCount: Int { state.withLockedValue { $0.nodes.count } }

    /// The nodes as they are now.
    public func snapshot() -> Snapshot {
        state.withLockedValue { Snapshot(nodes: $0.nodes, index: $0.index, summary: $0.summary) }
    }

    /// Brings `snapshot` up to date by copying only the nodes that changed since its last update, as
    /// upstream's `UpdateSnapshot`: the scheduling loop owns its snapshot, so a cycle never copies every node
    /// because the cache changed while the cycle was reading.
    public func updateSnapshot(_ snapshot: inout Snapshot) {
        state.withLockedValue { state in
            if state.structureChanged {
                snapshot = Snapshot(nodes: state.nodes, index: state.index, summary: state.summary)
                state.structureChanged = false
            } else {
                for name in state.dirty {
                    if let position = state.index[name] { snapshot.replace(state.nodes[position], at: position) }
                }
                snapshot.summary = state.summary
            }
            state.dirty.removeAll(keepingCapacity: true)
        }
    }

    public func isAssumed(uid: String) -> Bool { state.withLockedValue { $0.assumed[uid] != nil } }

    // MARK: Nodes

    public func addOrUpdate(node: Node) {
        let name = node.metadata.name ?? ""
        state.withLockedValue { state in
            if let position = state.index[name] {
                state.summary.remove(node: state.nodes[position])
                state.nodes[position].update(node: node)
                state.summary.add(node: state.nodes[position])
                state.dirty.insert(name)
                return
            }
            state.structureChanged = true
            var info = NodeInfo(node: node)
            for pod in state.waiting.removeValue(forKey: name) ?? [] { info.add(pod) }
            state.index[name] = state.nodes.count
            state.summary.add(node: info)
            state.nodes.append(info)
        }
    }

    public func remove(nodeNamed name: String) {
        state.withLockedValue { state in
            guard let position = state.index.removeValue(forKey: name) else { return }
            state.structureChanged = true
            let removed = state.nodes[position]
            state.summary.remove(node: removed)
            let last = state.nodes.removeLast()
            if position < state.nodes.count {
                state.nodes[position] = last
                state.index[last.name] = position
            }
            // Its pods stay counted against the name, in case the node comes back before they are deleted.
            if !removed.pods.isEmpty { state.waiting[name] = removed.pods }
        }
    }

    // MARK: Pods

    /// A pod the informers report bound to `pod.spec.nodeName` (also confirms an assumed pod).
    public func addOrUpdate(boundPod pod: PodInfo) {
        guard let node = pod.pod.spec.nodeName, !node.isEmpty else { return }
        state.withLockedValue { state in
            Self.detach(pod.uid, in: &state)
            state.assumed[pod.uid] = nil
            Self.attach(pod, to: node, in: &state)
        }
    }

    public func remove(podUID uid: String) {
        state.withLockedValue { state in
            Self.detach(uid, in: &state)
            state.assumed[uid] = nil
        }
    }

    /// Counts `pod` on `node` before its binding is confirmed.
    public func assume(_ pod: PodInfo, on node: String) {
        state.withLockedValue { state in
            Self.detach(pod.uid, in: &state)
            Self.attach(pod, to: node, in: &state)
            state.assumed[pod.uid] = Assumed(node: node)
        }
    }

    /// The binding was sent successfully: the informer should confirm it within the TTL.
    public func finishBinding(uid: String) {
        let deadline = time.now.advanced(by: assumedTTL)
        state.withLockedValue { state in
            state.assumed[uid]?.deadline = deadline
        }
    }

    /// The binding failed: the pod no longer counts on its node.
    public func forget(uid: String) {
        state.withLockedValue { state in
            guard state.assumed.removeValue(forKey: uid) != nil else { return }
            Self.detach(uid, in: &state)
        }
    }

    /// Drops assumed pods whose binding was never confirmed; returns their UIDs.
    @discardableResult
    public func expireAssumedPods() -> [String] {
        let now = time.now
        return state.withLockedValue { state in
            let expired = state.assumed.filter { $0.value.deadline.map { $0 <= now } ?? false }.map(\.key)
            for uid in expired {
                state.assumed[uid] = nil
                Self.detach(uid, in: &state)
            }
            return expired
        }
    }

    private static func attach(_ pod: PodInfo, to node: String, in state: inout State) {
        state.podNode[pod.uid] = node
        state.summary.add(pod: pod, by: 1)
        if let position = state.index[node] {
            state.nodes[position].add(pod)
            state.dirty.insert(node)
        } else {
            state.waiting[node, default: []].append(pod)
        }
    }

    private static func detach(_ uid: String, in state: inout State) {
        guard let node = state.podNode.removeValue(forKey: uid) else { return }
        if let position = state.index[node] {
            if let pod = state.nodes[position].pods.first(where: { $0.uid == uid }) {
                state.summary.add(pod: pod, by: -1)
            }
            state.nodes[position].remove(uid: uid)
            state.dirty.insert(node)
        } else {
            if let pod = state.waiting[node]?.first(where: { $0.uid == uid }) { state.summary.add(pod: pod, by: -1) }
            state.waiting[node]?.removeAll { $0.uid == uid }
            if state.waiting[node]?.isEmpty == true { state.waiting[node] = nil }
        }
    }
}

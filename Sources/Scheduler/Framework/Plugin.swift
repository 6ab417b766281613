public import APIMachinery

/// A scheduling plugin: one type per plugin, implementing the extension points it needs
/// (upstream's `framework/interface.go`). Plugins are values shared by every scheduling cycle.
public protocol SchedulerPlugin: Sendable {
    /// The name profiles enable it by (`NodeResourcesFit`).
    var name: String { get }
    /// The cluster events that can make a pod it rejected fit (default: all).
    var clusterEvents: Set<ClusterEvent> { get }
}

/// Orders the active queue (only one per profile).
public protocol QueueSortPlugin: SchedulerPlugin {
    func less(_ a: QueuedPodInfo, _ b: QueuedPodInfo) -> Bool
}

/// Keeps a pod out of the active queue until it may be scheduled (scheduling gates).
public protocol PreEnqueuePlugin: SchedulerPlugin {
    func preEnqueue(_ pod: PodInfo) -> PluginStatus
}

/// Runs once per cycle before filtering; may narrow the nodes worth filtering.
public protocol PreFilterPlugin: SchedulerPlugin {
    func preFilter(state: CycleState, pod: PodInfo, nodes: [NodeInfo]) -> PreFilterResult
    /// Updates the cycle state as if `other` were added to or removed from `node` (preemption's "what if").
    func addPod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo)
    func removePod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo)
}

extension PreFilterPlugin {
    public func addPod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo) {}
    public func removePod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo) {}
}

/// What PreFilter decided: a status, and optionally the only node names worth trying.
public struct PreFilterResult: Sendable {
    public var status: PluginStatus
    public var nodeNames: Set<String>?
    /// The plugins that narrowed `nodeNames` (named in the rejection of the nodes left out).
    public var narrowedBy: [String] = []
    /// Plugins whose PreFilter said `skip`: their Filter has nothing to check this cycle.
    public var skipped: Set<String> = []

    public init(_ status: PluginStatus = .success, nodeNames: Set<String>? = nil) {
        self.status = status
        self.nodeNames = nodeNames
    }
}

/// Says whether the pod fits one node. Called concurrently for different nodes: no shared mutable state.
public protocol FilterPlugin: SchedulerPlugin {
    func filter(state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus
}

/// Runs when no node fits (preemption).
public protocol PostFilterPlugin: SchedulerPlugin {
    func postFilter(state: CycleState, pod: PodInfo, diagnosis: Diagnosis, snapshot: Snapshot) async -> PostFilterResult
}

/// What PostFilter achieved: a node nominated for the pod once victims are gone.
public struct PostFilterResult: Sendable {
    public var status: PluginStatus
    public var nominatedNodeName: String?

    public init(_ status: PluginStatus, nominatedNodeName: String? = nil) {
        self.status = status
        self.nominatedNodeName = nominatedNodeName
    }
}

/// Runs once per cycle over the feasible nodes before scoring.
public protocol PreScorePlugin: SchedulerPlugin {
    func preScore(state: CycleState, pod: PodInfo, nodes: [NodeInfo]) -> PluginStatus
}

/// Ranks feasible nodes; the framework multiplies each plugin's normalised score (0…100) by its weight.
public protocol ScorePlugin: SchedulerPlugin {
    func score(state: CycleState, pod: PodInfo, node: NodeInfo) -> Int64
    /// Maps raw scores onto 0…`maxNodeScore`; the default keeps them as they are.
    func normalize(state: CycleState, pod: PodInfo, scores: inout [Int64])
}

extension ScorePlugin {
    public func normalize(state: CycleState, pod: PodInfo, scores: inout [Int64]) {}
}

/// The highest score a plugin gives a node.
public let maxNodeScore: Int64 = 100

/// Claims or releases what the pod will use on the chosen node before binding.
public protocol ReservePlugin: SchedulerPlugin {
    func reserve(state: CycleState, pod: PodInfo, nodeName: String) -> PluginStatus
    func unreserve(state: CycleState, pod: PodInfo, nodeName: String)
}

/// May hold a pod's binding (wait) or refuse it after reservation.
public protocol PermitPlugin: SchedulerPlugin {
    func permit(state: CycleState, pod: PodInfo, nodeName: String) -> PluginStatus
}

/// Runs before binding, in the binding task (e.g. volume work).
public protocol PreBindPlugin: SchedulerPlugin {
    func preBind(state: CycleState, pod: PodInfo, nodeName: String) async -> PluginStatus
}

/// Binds the pod; the first one that does not `skip` decides.
public protocol BindPlugin: SchedulerPlugin {
    func bind(state: CycleState, pod: PodInfo, nodeName: String) async -> PluginStatus
}

/// Told after a successful binding.
public protocol PostBindPlugin: SchedulerPlugin {
    func postBind(state: CycleState, pod: PodInfo, nodeName: String) async
}

/// What a plugin factory gets: the plugin's arguments from the profile and the scheduler's services.
public struct PluginContext: Sendable {
    /// `pluginConfig[].args` for this plugin, if the configuration gave any.
    public var args: JSON?
    public var handle: FrameworkHandle

    public init(args: JSON?, handle: FrameworkHandle) {
        self.args = args
        self.handle = handle
    }
}

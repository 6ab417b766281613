public import Client

/// The nodes as one scheduling cycle sees them: an immutable copy of the cache's node infos.
public struct Snapshot: Sendable {
    public private(set) var nodes: [NodeInfo]
    private let index: [String: Int]
    /// Cluster-wide counts the cache keeps as it changes, so plugins need not walk every node to learn them.
    public internal(set) var summary: ClusterSummary

    public init(nodes: [NodeInfo]) {
        self.nodes = nodes
        var index: [String: Int] = [:]
        index.reserveCapacity(nodes.count)
        var summary = ClusterSummary()
        for (position, node) in nodes.enumerated() {
            index[node.name] = position
            summary.add(node: node)
            for pod in node.pods { summary.add(pod: pod, by: 1) }
        }
        self.index = index
        self.summary = summary
    }

    /// Shares the cache's arrays: no copying per cycle unless the cache changes meanwhile.
    init(nodes: [NodeInfo], index: [String: Int], summary: ClusterSummary) {
        self.nodes = nodes
        self.index = index
        self.summary = summary
    }

    /// Puts the cache's newer copy of the node at `position` in place (the index is unchanged).
    mutating func replace(_ node: NodeInfo, at position: Int) {
        nodes[position] = node
    }

    public func node(named name: String) -> NodeInfo? {
        index[name].map { nodes[$0] }
    }
}

/// What the whole cluster holds, kept current by the cache: how many pods have pod affinity terms (most
/// cycles then skip InterPodAffinity's walk over every node) and how many nodes hold each image
/// (ImageLocality's spread), as upstream's snapshot keeps them. Algorithms write it into the cycle state.
public struct ClusterSummary: Sendable {
    public var podsWithAffinity = 0
    public var podsWithRequiredAntiAffinity = 0
    /// Pods whose terms score other pods' placement (`PodInfo.scoresOthers`): without any, and without
    /// preferred terms of its own, a pod's InterPodAffinity scores are all 0 and its PreScore walks no node.
    public var podsScoringOthers = 0
    /// Image name → nodes whose status lists it.
    public var imageNodes: [String: Int] = [:]

    public init() {}

    mutating func add(pod: PodInfo, by count: Int) {
        if pod.hasPodAffinity { podsWithAffinity += count }
        if pod.hasRequiredAntiAffinity { podsWithRequiredAntiAffinity += count }
        if pod.scoresOthers { podsScoringOthers += count }
    }

    mutating func add(node: NodeInfo) {
        for image in node.imageSizes.keys { imageNodes[image, default: 0] += 1 }
    }

    mutating func remove(node: NodeInfo) {
        for image in node.imageSizes.keys {
            let left = (imageNodes[image] ?? 1) - 1
            imageNodes[image] = left > 0 ? left : nil
        }
    }
}

/// Why a pod fits no node: each rejected node's status, and which plugins rejected it, so the queue knows
/// which cluster events could help and the event message can count the reasons.
public struct Diagnosis: Sendable {
    public var nodeStatuses: [String: PluginStatus] = [:]
    public var unschedulablePlugins: Set<String> = []
    /// Set when PreFilter rejected the pod before any node was tried.
    public var preFilterStatus: PluginStatus?

    public init() {}
}

/// A pod waiting in the scheduling queue, with its attempt history.
public struct QueuedPodInfo: Sendable {
    public var podInfo: PodInfo
    /// When it was last added to the queue (ties in priority go to the earlier).
    public var timestamp: ContinuousClock.Instant
    public var attempts: Int = 0
    public var initialAttemptTimestamp: ContinuousClock.Instant?
    /// Plugins that rejected it last time: only events those plugins care about move it back.
    public var unschedulablePlugins: Set<String> = []
    /// Rejected by a PreEnqueue plugin (scheduling gates): waits outside the active queue.
    public var gated = false

    public init(podInfo: PodInfo, timestamp: ContinuousClock.Instant) {
        self.podInfo = podInfo
        self.timestamp = timestamp
    }

    public var pod: Pod { podInfo.pod }
}

/// What plugins may use of the scheduler beyond the cycle's data: the API client, the event recorder and
/// read access to the informer caches. Every member has a harmless default, so unit tests set only what a
/// plugin under test reads.
public struct FrameworkHandle: Sendable {
    /// The API client (nil in unit tests of pure plugins).
    public var client: RESTClient?
    /// Records an event about a pod: (pod, type `Normal`/`Warning`, reason, action, note).
    public var recordEvent: @Sendable (Pod, String, String, String, String) -> Void
    /// The PodDisruptionBudgets in the cluster, read from the informer cache (preemption).
    public var disruptionBudgets: @Sendable () -> [PodDisruptionBudget]
    /// Pods nominated to a node by an earlier preemption, which later cycles must leave room for.
    public var nominatedPods: @Sendable (String) -> [PodInfo]
    /// A PersistentVolumeClaim by namespace and name.
    public var persistentVolumeClaim: @Sendable (String, String) -> PersistentVolumeClaim?
    /// A PersistentVolume by name.
    public var persistentVolume: @Sendable (String) -> PersistentVolume?
    /// A StorageClass by name.
    public var storageClass: @Sendable (String) -> StorageClass?
    /// A CSINode by (node) name.
    public var csiNode: @Sendable (String) -> CSINode?
    /// A namespace's labels by name, nil when it is unknown (InterPodAffinity's namespaceSelector).
    public var namespaceLabels: @Sendable (String) -> [String: String]?
    /// The profile of a `schedulerName`, for plugins that run the others (preemption's dry runs). Profiles
    /// are built from this handle, so the scheduler fills it in afterwards (through a reference it owns).
    public var profile: @Sendable (String) -> Profile?
    /// `parallelism` from the configuration: plugins whose PreFilter or PreScore visits every node use it.
    public var parallelism: Int

    public init(
        client: RESTClient? = nil,
        recordEvent: @escaping @Sendable (Pod, String, String, String, String) -> Void = { _, _, _, _, _ in },
        disruptionBudgets: @escaping @Sendable () -> [PodDisruptionBudget] = { [] },
        nominatedPods: @escaping @Sendable (String) -> [PodInfo] = { _ in [] },
        persistentVolumeClaim: @escaping @Sendable (String, String) -> PersistentVolumeClaim? = { _, _ in nil },
        persistentVolume: @escaping @Sendable (String) -> PersistentVolume? = { _ in nil },
        storageClass: @escaping @Sendable (String) -> StorageClass? = { _ in nil },
        csiNode: @escaping @Sendable (String) -> CSINode? = { _ in nil },
        namespaceLabels: @escaping @Sendable (String) -> [String: String]? = { _ in nil },
        profile: @escaping @Sendable (String) -> Profile? = { _ in nil }, parallelism: Int = 16
    ) {
        self.client = client
        self.recordEvent = recordEvent
        self.disruptionBudgets = disruptionBudgets
        self.nominatedPods = nominatedPods
        self.persistentVolumeClaim = persistentVolumeClaim
        self.persistentVolume = persistentVolume
        self.storageClass = storageClass
        self.csiNode = csiNode
        self.namespaceLabels = namespaceLabels
        self.profile = profile
        self.parallelism = parallelism
    }
}

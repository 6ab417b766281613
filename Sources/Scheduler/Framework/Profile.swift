public import APIMachinery

/// One scheduling profile (`schedulerName`): its plugins instantiated and ordered per extension point.
/// It runs the points; the scheduling loop decides what to run when.
public final class Profile: Sendable {
    public let schedulerName: String
    let queueSort: any QueueSortPlugin
    let preEnqueue: [any PreEnqueuePlugin]
    let preFilter: [any PreFilterPlugin]
    let filter: FilterPlugins
    let postFilter: [any PostFilterPlugin]
    let preScore: [any PreScorePlugin]
    let score: ScorePlugins
    let reserve: [any ReservePlugin]
    let permit: [any PermitPlugin]
    let preBind: [any PreBindPlugin]
    let bind: [any BindPlugin]
    let postBind: [any PostBindPlugin]
    /// Plugin name → the cluster events that can undo its rejections (for the queue).
    public let clusterEventInterest: [String: Set<ClusterEvent>]

    /// Instantiates each enabled plugin once (shared by every point it serves).
    public init(
        schedulerName: String, plugins configured: PluginSet, pluginArgs: [String: JSON] = [:],
        registry: PluginRegistry = .inTree, handle: FrameworkHandle
    ) throws(SchedulerConfigError) {
        self.schedulerName = schedulerName
        let plugins = configured.merged(onto: .defaults)
        var instances: [String: any SchedulerPlugin] = [:]
        func instance(_ name: String) throws(SchedulerConfigError) -> any SchedulerPlugin {
            if let existing = instances[name] { return existing }
            guard let factory = registry.factories[name] else {
                throw SchedulerConfigError("plugin \"\(name)\" does not exist")
            }
            let plugin = try factory(PluginContext(args: pluginArgs[name], handle: handle))
            instances[name] = plugin
            return plugin
        }
        func enabled<P>(_ point: String, as type: P.Type) throws(SchedulerConfigError) -> [(P, Int64)] {
            let explicit = plugins.perPoint[point] ?? PluginSet.Point()
            var result: [(P, Int64)] = []
            var seen: Set<String> = []
            let disabledAll = explicit.disabled.contains("*")
            for entry in plugins.multiPoint.enabled
            where !disabledAll && !explicit.disabled.contains(entry.name) && !seen.contains(entry.name) {
                if let plugin = try instance(entry.name) as? P {
                    seen.insert(entry.name)
                    // The point's own entry overrides multiPoint's, as upstream merges them.
                    let own = explicit.enabled.first { $0.name == entry.name }
                    result.append((plugin, own.map { $0.weight != 0 ? $0.weight : entry.weight } ?? entry.weight))
                }
            }
            for entry in explicit.enabled where !seen.contains(entry.name) {
                guard let plugin = try instance(entry.name) as? P else {
                    throw SchedulerConfigError("plugin \"\(entry.name)\" does not extend \(point) plugin")
                }
                seen.insert(entry.name)
                result.append((plugin, entry.weight))
            }
            return result
        }
        let sorters = try enabled("queueSort", as: (any QueueSortPlugin).self)
        guard sorters.count == 1, let sorter = sorters.first?.0 else {
            throw SchedulerConfigError(
                "one queue sort plugin required for profile with scheduler name \"\(schedulerName)\"")
        }
        queueSort = sorter
        preEnqueue = try enabled("preEnqueue", as: (any PreEnqueuePlugin).self).map(\.0)
        preFilter = try enabled("preFilter", as: (any PreFilterPlugin).self).map(\.0)
        filter = FilterPlugins(try enabled("filter", as: (any FilterPlugin).self).map { .init($0.0, name: $0.0.name) })
        postFilter = try enabled("postFilter", as: (any PostFilterPlugin).self).map(\.0)
        preScore = try enabled("preScore", as: (any PreScorePlugin).self).map(\.0)
        score = ScorePlugins(
            try enabled("score", as: (any ScorePlugin).self).map {
                .init($0.0, name: $0.0.name, weight: $0.1 == 0 ? 1 : $0.1)
            })
        reserve = try enabled("reserve", as: (any ReservePlugin).self).map(\.0)
        permit = try enabled("permit", as: (any PermitPlugin).self).map(\.0)
        preBind = try enabled("preBind", as: (any PreBindPlugin).self).map(\.0)
        bind = try enabled("bind", as: (any BindPlugin).self).map(\.0)
        postBind = try enabled("postBind", as: (any PostBindPlugin).self).map(\.0)
        clusterEventInterest = instances.mapValues(\.clusterEvents)
        if bind.isEmpty {
            throw SchedulerConfigError(
                "at least one bind plugin is needed for profile with scheduler name \"\(schedulerName)\"")
        }
    }

    /// Names of the plugins at each point, for logs and tests.
    public var filterPluginNames: [String] { filter.names }
    public var scorePluginNames: [String] { score.names }

    public func less(_ a: QueuedPodInfo, _ b: QueuedPodInfo) -> Bool { queueSort.less(a, b) }

    public func runPreEnqueue(_ pod: PodInfo) -> PluginStatus {
        for plugin in preEnqueue {
            let status = plugin.preEnqueue(pod)
            if !status.isSuccess { return status.by(plugin.name) }
        }
        return .success
    }

    /// Runs every PreFilter plugin; the node names they allow are intersected.
    public func runPreFilter(state: CycleState, pod: PodInfo, nodes: [NodeInfo]) -> PreFilterResult {
        var allowed: Set<String>?
        var narrowedBy: [String] = []
        var skipped: Set<String> = []
        for plugin in preFilter {
            let result = plugin.preFilter(state: state, pod: pod, nodes: nodes)
            if result.status.code == .skip {
                skipped.insert(plugin.name)
                continue
            }
            if !result.status.isSuccess { return PreFilterResult(result.status.by(plugin.name)) }
            if let names = result.nodeNames {
                allowed = allowed.map { $0.intersection(names) } ?? names
                narrowedBy.append(plugin.name)
            }
        }
        var result = PreFilterResult(.success, nodeNames: allowed)
        result.narrowedBy = narrowedBy
        result.skipped = skipped
        return result
    }

    /// The first rejecting Filter plugin's status, or success; plugins in `skipping` (their PreFilter said
    /// `skip`) are not run, as upstream.
    public func runFilter(state: CycleState, pod: PodInfo, node: NodeInfo, skipping: Set<String> = []) -> PluginStatus {
        runFilter(filterPlugins(skipping: skipping), state: state, pod: pod, node: node)
    }

    /// The Filter plugins to run this cycle: those whose PreFilter did not say `skip`. Chosen once per cycle,
    /// not once per node.
    func filterPlugins(skipping: Set<String>) -> FilterPlugins {
        filter.skipping(skipping)
    }

    /// Runs `plugins` (from `filterPlugins(skipping:)`) on one node; the first rejection, or success.
    func runFilter(_ plugins: FilterPlugins, state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        plugins.withReferences { Self.runFilter($0, state: state, pod: pod, node: node) }
    }

    /// The per-node loop of Filter, calling each plugin in place (see `NodePlugins`).
    static func runFilter(
        _ plugins: UnsafeBufferPointer<Unmanaged<FilterPlugins.Entry>>, state: CycleState, pod: PodInfo,
        node: NodeInfo
    ) -> PluginStatus {
        for plugin in plugins {
            let status = plugin._withUnsafeGuaranteedRef { $0.plugin.filter(state: state, pod: pod, node: node) }
            if !status.isSuccess && status.code != .skip { return status.by(plugin.takeUnretainedValue().name) }
        }
        return PluginStatus(.success)
    }

    public func runPreFilterAddPod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo) {
        for plugin in preFilter { plugin.addPod(state: state, pod: pod, other: other, node: node) }
    }

    public func runPreFilterRemovePod(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo) {
        for plugin in preFilter { plugin.removePod(state: state, pod: pod, other: other, node: node) }
    }

    public var hasPostFilter: Bool { !postFilter.isEmpty }

    public func runPostFilter(state: CycleState, pod: PodInfo, diagnosis: Diagnosis, snapshot: Snapshot) async
        -> PostFilterResult
    {
        var last = PostFilterResult(PluginStatus(.unschedulable))
        for plugin in postFilter {
            let result = await plugin.postFilter(state: state, pod: pod, diagnosis: diagnosis, snapshot: snapshot)
            if result.status.isSuccess { return result }
            last = result
        }
        return last
    }

    /// Runs every PreScore plugin: the first failure, or success with the plugins that said `skip` (their Score
    /// has nothing to add this cycle and is not run, as upstream).
    public func runPreScore(state: CycleState, pod: PodInfo, nodes: [NodeInfo]) -> (
        status: PluginStatus, skipped: Set<String>
    ) {
        var skipped: Set<String> = []
        for plugin in preScore {
            let status = plugin.preScore(state: state, pod: pod, nodes: nodes)
            if status.code == .skip {
                skipped.insert(plugin.name)
            } else if !status.isSuccess {
                return (status.by(plugin.name), skipped)
            }
        }
        return (.success, skipped)
    }

    /// Each node's weighted total over the Score plugins not in `skipping`, in `nodes` order. As upstream, one
    /// parallel pass over the nodes runs every plugin on a node (each node is read once, one hand-off to the
    /// workers per cycle), then each plugin normalises its own scores.
    func runScore(
        state: CycleState, pod: PodInfo, nodes: [NodeInfo], skipping: Set<String> = [], parallelizer: Parallelizer
    ) -> [Int64] {
        let plugins = score.skipping(skipping)
        var totals = [Int64](repeating: 0, count: nodes.count)
        guard !plugins.isEmpty, !nodes.isEmpty else { return totals }
        let count = nodes.count
        // Plugin-major: plugin p's score of node n is at p * count + n, so each plugin normalises a slice.
        var raw = [Int64](repeating: 0, count: plugins.entries.count * count)
        state.readingOnly {
            nodes.withUnsafeBufferPointer { nodeBuffer in
                plugins.withReferences { pluginBuffer in
                    raw.withUnsafeMutableBufferPointer { rawBuffer in
                        // Each node's scores are written by the one thread that scores it.
                        nonisolated(unsafe) let (nodeBuffer, pluginBuffer, output) = (
                            nodeBuffer, pluginBuffer, rawBuffer
                        )
                        parallelizer.forEach(count) { index in
                            if index + SchedulingAlgorithm.prefetchDistance < count {
                                NodeInfo.prefetch(
                                    nodeBuffer.baseAddress.unsafelyUnwrapped + index
                                        + SchedulingAlgorithm.prefetchDistance)
                            }
                            NodeInfo.withUnretained(nodeBuffer.baseAddress.unsafelyUnwrapped + index) { node in
                                for (position, plugin) in pluginBuffer.enumerated() {
                                    output[position * count + index] = plugin._withUnsafeGuaranteedRef {
                                        $0.plugin.score(state: state, pod: pod, node: node)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for (position, entry) in plugins.entries.enumerated() {
            var scores = Array(raw[(position * count)..<((position + 1) * count)])
            entry.plugin.normalize(state: state, pod: pod, scores: &scores)
            for index in scores.indices { totals[index] += scores[index] * entry.weight }
        }
        return totals
    }

    public func runReserve(state: CycleState, pod: PodInfo, nodeName: String) -> PluginStatus {
        for (position, plugin) in reserve.enumerated() {
            let status = plugin.reserve(state: state, pod: pod, nodeName: nodeName)
            if !status.isSuccess {
                for earlier in reserve[..<position].reversed() {
                    earlier.unreserve(state: state, pod: pod, nodeName: nodeName)
                }
                return status.by(plugin.name)
            }
        }
        return .success
    }

    public func runUnreserve(state: CycleState, pod: PodInfo, nodeName: String) {
        for plugin in reserve.reversed() { plugin.unreserve(state: state, pod: pod, nodeName: nodeName) }
    }

    public func runPermit(state: CycleState, pod: PodInfo, nodeName: String) -> PluginStatus {
        for plugin in permit {
            let status = plugin.permit(state: state, pod: pod, nodeName: nodeName)
            if !status.isSuccess && status.code != .skip { return status.by(plugin.name) }
        }
        return .success
    }

    public func runPreBind(state: CycleState, pod: PodInfo, nodeName: String) async -> PluginStatus {
        for plugin in preBind {
            let status = await plugin.preBind(state: state, pod: pod, nodeName: nodeName)
            if !status.isSuccess && status.code != .skip { return status.by(plugin.name) }
        }
        return .success
    }

    public func runBind(state: CycleState, pod: PodInfo, nodeName: String) async -> PluginStatus {
        for plugin in bind {
            let status = await plugin.bind(state: state, pod: pod, nodeName: nodeName)
            if status.code != .skip { return status.by(plugin.name) }
        }
        return .error("no bind plugin bound the pod")
    }

    public func runPostBind(state: CycleState, pod: PodInfo, nodeName: String) async {
        for plugin in postBind { await plugin.postBind(state: state, pod: pod, nodeName: nodeName) }
    }
}

/// Plugin names → factories; `inTree` holds upstream's plugins this scheduler implements.
public struct PluginRegistry: Sendable {
    public typealias Factory = @Sendable (PluginContext) throws(SchedulerConfigError) -> any SchedulerPlugin
    public var factories: [String: Factory]

    public init(factories: [String: Factory]) { self.factories = factories }
}

import Client

extension NodeLifecycleController {
    /// The NoExecute taints this controller puts on nodes that are not Ready.
    static let notReadyTaint = Taint(key: NodeTaintKey.notReady, effect: TaintEffect.noExecute)
    static let unreachableTaint = Taint(key: NodeTaintKey.unreachable, effect: TaintEffect.noExecute)

    /// Keeps the NoSchedule taints of node `name` in step with its conditions and `spec.unschedulable`
    /// (upstream's `doNoScheduleTaintingPass`).
    func syncConditionTaints(_ name: String) async throws {
        guard let node = nodes.get(name: name) else { return }
        let (add, remove) = ConditionTaints.noScheduleDiff(for: node)
        guard !add.isEmpty || !remove.isEmpty else { return }
        try await writes.swapTaints(on: node, add: add, remove: remove)
    }

    /// Queues a not-ready or unreachable node for its NoExecute taint, swaps one kind for the other at once, or
    /// lifts both from a Ready node (upstream's `processTaintBaseEviction`).
    func processTaintBasedEviction(_ node: Node, observedReady: NodeCondition) async {
        let has = { (taint: Taint) in node.spec.taints.contains { $0.matches(taint) } }
        switch observedReady.status {
        case "False":
            if has(Self.unreachableTaint) {
                await swapNow(node, add: Self.notReadyTaint, remove: Self.unreachableTaint)
            } else {
                markForTainting(node, replacing: !has(Self.notReadyTaint))
            }
        case "Unknown":
            if has(Self.notReadyTaint) {
                await swapNow(node, add: Self.unreachableTaint, remove: Self.notReadyTaint)
            } else {
                markForTainting(node, replacing: !has(Self.unreachableTaint))
            }
        case "True":
            await markNodeAsReachable(node)
        default:
            break
        }
    }

    /// Lifts both NoExecute taints from `node` and drops it from its zone's queue (upstream's
    /// `markNodeAsReachable`).
    func markNodeAsReachable(_ node: Node) async {
        let remove = [Self.unreachableTaint, Self.notReadyTaint].filter { taint in
            node.spec.taints.contains { $0.matches(taint) }
        }
        if !remove.isEmpty {
            do {
                try await writes.swapTaints(on: node, add: [], remove: remove)
            } catch {
                logger.info("failed to remove NoExecute taints from node \(node.key.name), will retry: \(error)")
                return
            }
        }
        _ = state.withLockedValue { $0.tainters[zoneKey(of: node)] }?.remove(node.key.name)
    }

    /// Runs every zone's tainting queue once (upstream's `doNoExecuteTaintingPass`): each due node gets the
    /// taint its current Ready condition calls for, at the zone's rate.
    func processTaintQueues() async {
        let tainters = state.withLockedValue { $0.tainters }
        for zone in tainters.keys.sorted() {
            guard let tainter = tainters[zone] else { continue }
            await tainter.process { entry in
                guard let node = nodes.get(name: entry.value) else { return (true, .zero) }
                guard let ready = node.status.condition("Ready") else { return (false, .milliseconds(50)) }
                let add: Taint
                let remove: Taint
                switch ready.status {
                case "False": (add, remove) = (Self.notReadyTaint, Self.unreachableTaint)
                case "Unknown": (add, remove) = (Self.unreachableTaint, Self.notReadyTaint)
                default: return (true, .zero)  // Ready again: nothing to taint.
                }
                do {
                    try await writes.swapTaints(on: node, add: [add], remove: [remove])
                    return (true, .zero)
                } catch {
                    logger.info("failed to taint node \(node.key.name): \(error)")
                    return (false, .zero)
                }
            }
        }
    }

    /// Queues `node` in its zone; `replacing` first drops an entry queued for the other kind of taint.
    private func markForTainting(_ node: Node, replacing: Bool) {
        guard let tainter = state.withLockedValue({ $0.tainters[zoneKey(of: node)] }) else { return }
        if replacing { tainter.remove(node.key.name) }
        tainter.add(node.key.name, uid: node.metadata.uid ?? "")
    }

    private func swapNow(_ node: Node, add: Taint, remove: Taint) async {
        do {
            try await writes.swapTaints(on: node, add: [add], remove: [remove])
        } catch {
            logger.error("failed to swap \(remove.key ?? "") for \(add.key ?? "") on node \(node.key.name): \(error)")
        }
    }
}

import APIMachinery
import Client
import Foundation

extension NodeLifecycleController {
    /// Upstream's `nodeStatusUpdateRetry`.
    static let statusUpdateAttempts = 5
    /// Nodes with this label count in no zone's health (upstream's `LabelNodeExcludeDisruption`).
    static let excludeFromDisruptionLabel = "node.kubernetes.io/exclude-disruption"

    /// One monitor pass (upstream's `monitorNodeHealth`): notice added and removed nodes, judge every node's
    /// health, queue or lift NoExecute taints, mark pods of nodes that just stopped being Ready, then update the
    /// zones' states and tainting rates.
    func monitorNodeHealth() async {
        let all = nodes.list()
        let (added, deleted) = classify(all)
        for node in added {
            writes.nodeEvent(
                node, reason: "RegisteredNode", action: "Register",
                note: "Registered Node \(node.key.name) in Controller")
            await markNodeAsReachable(node)
        }
        for (name, uid) in deleted {
            writes.recorder.eventf(
                regarding: ObjectReference(apiVersion: "v1", kind: "Node", name: name, uid: uid), type: .normal,
                reason: "RemovingNode", action: "Remove", note: "Removing Node \(name) from Controller")
        }

        var conditionsByZone: [String: [NodeCondition?]] = [:]
        for listed in all {
            guard let (node, result) = await updateHealth(listed) else { continue }
            if node.metadata.labels[Self.excludeFromDisruptionLabel] == nil {
                conditionsByZone[zoneKey(of: node), default: []].append(result.currentReady)
            }
            guard let current = result.currentReady else {
                _ = state.withLockedValue { $0.nodesToRetry.remove(node.key.name) }
                continue
            }
            await processTaintBasedEviction(node, observedReady: result.observedReady)
            let justWentDown = current.status != "True" && result.observedReady.status == "True"
            if justWentDown {
                writes.nodeEvent(
                    node, reason: "NodeNotReady", action: "StatusChange",
                    note: "Node \(node.key.name) status is now: NodeNotReady")
            }
            let needsRetry = state.withLockedValue { $0.nodesToRetry.contains(node.key.name) }
            if justWentDown || (needsRetry && result.observedReady.status != "True") {
                do {
                    try await writes.markPodsNotReady(pods(on: node.key.name), nodeName: node.key.name)
                } catch {
                    logger.info(
                        "unable to mark all pods NotReady on node \(node.key.name): \(error); queuing for retry")
                    _ = state.withLockedValue { $0.nodesToRetry.insert(node.key.name) }
                    continue
                }
            }
            _ = state.withLockedValue { $0.nodesToRetry.remove(node.key.name) }
        }
        await handleDisruption(conditionsByZone, nodes: all)
    }

    /// Records which nodes are new and which are gone since the last pass, making a tainting queue for every new
    /// zone.
    private func classify(_ all: [Node]) -> (added: [Node], deleted: [(name: String, uid: String)]) {
        let policy = self.policy
        let time = self.time
        return state.withLockedValue { state in
            var added: [Node] = []
            for node in all where state.known[node.key.name] == nil {
                added.append(node)
                state.known[node.key.name] = node.metadata.uid ?? ""
            }
            for node in all where state.tainters[zoneKey(of: node)] == nil {
                state.tainters[zoneKey(of: node)] = RateLimitedTimedQueue(qps: policy.evictionQPS, time: time)
            }
            let names = Set(all.map(\.key.name))
            let deleted = state.known.filter { !names.contains($0.key) }.map { (name: $0.key, uid: $0.value) }
            for (name, _) in deleted {
                state.known[name] = nil
                state.health[name] = nil
            }
            return (added, deleted)
        }
    }

    /// Judges one node, writing Unknown conditions when it went silent; the node as it now is and the verdict,
    /// or nil when the status could not be written after upstream's retries.
    private func updateHealth(_ listed: Node) async -> (Node, NodeHealthCheck.Result)? {
        var node = listed
        for attempt in 0..<Self.statusUpdateAttempts {
            if attempt > 0 {
                do {
                    node = try await ResourceClient<Node>(client: client).get(listed.key.name)
                } catch {
                    logger.info("failed to get node \(listed.key.name) while updating its health: \(error)")
                    return nil
                }
            }
            let saved = state.withLockedValue { $0.health[node.key.name] }
            let lease = leases.get(namespace: NodeLifecycleController.leaseNamespace, name: node.key.name)
            let result = healthCheck.check(node: node, lease: lease, saved: saved, now: time.wallNow)
            guard let update = result.statusUpdate, let after = result.healthAfterWrite else {
                state.withLockedValue { $0.health[node.key.name] = result.health }
                return (node, result)
            }
            do {
                let written = try await ResourceClient<Node>(client: client).updateStatus(update)
                state.withLockedValue { $0.health[node.key.name] = after }
                return (written, result)
            } catch {
                logger.info("error updating node \(node.key.name) status: \(error)")
                state.withLockedValue { $0.health[node.key.name] = result.health }
            }
        }
        logger.error("update health of node \(listed.key.name) failed after \(Self.statusUpdateAttempts) attempts")
        return nil
    }

    /// Applies a pass's zone states (upstream's `handleDisruption`).
    private func handleDisruption(_ conditionsByZone: [String: [NodeCondition?]], nodes all: [Node]) async {
        let now = time.wallNow
        let (outcome, tainters, states) = state.withLockedValue { state in
            let outcome = state.zones.observe(conditionsByZone)
            if outcome.exitedFullDisruption {
                // Nodes get a full grace period from now rather than being judged on the silence just ended.
                for name in state.health.keys {
                    state.health[name]?.probeTimestamp = now
                    state.health[name]?.readyTransitionTimestamp = now
                }
            }
            return (outcome, state.tainters, state.zones.states)
        }
        if outcome.enteredFullDisruption {
            logger.info("Controller detected that all Nodes are not-Ready. Entering master disruption mode")
            for node in all { await markNodeAsReachable(node) }
        }
        if outcome.exitedFullDisruption {
            logger.info("Controller detected that some Nodes are Ready. Exiting master disruption mode")
        }
        for (zone, qps) in outcome.limiters {
            if !outcome.enteredFullDisruption && !outcome.exitedFullDisruption {
                logger.info("Controller detected that zone \(zone) is now in state \(states[zone]?.rawValue ?? "")")
            }
            tainters[zone]?.swapLimiter(qps: qps)
        }
    }
}

extension NodeLifecycleController {
    /// Where kubelets keep their node Leases.
    static let leaseNamespace = "kube-node-lease"
}

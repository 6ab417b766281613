import APIMachinery
import Client

extension TaintEvictionController {
    /// Upstream's `retries` for a deletion.
    static let deletionAttempts = 5

    /// Notes a node's NoExecute taints and re-plans every pod on it (upstream's `handleNodeUpdate`).
    func syncNode(_ name: String) async {
        guard let node = nodes.get(name: name) else {
            _ = taintedNodes.withLockedValue { $0.removeValue(forKey: name) }
            return
        }
        let taints = Self.noExecuteTaints(node)
        // The taints are recorded before the pods are read, so a pod bound meanwhile is planned by its own update.
        taintedNodes.withLockedValue { $0[name] = taints.isEmpty ? nil : taints }
        let podsOnNode = (try? pods.byIndex(Pod.nodeNameIndex, name)) ?? []
        let now = time.now
        for pod in podsOnNode {
            plan(pod.key, tolerations: pod.spec.tolerations, taints: taints, now: now)
        }
    }

    /// Re-plans one pod after it was bound, changed its tolerations or went away (upstream's `handlePodUpdate`).
    func syncPod(_ key: ObjectKey, node: String) async {
        guard let pod = pods.get(namespace: key.namespace, name: key.name) else {
            cancel(key)
            return
        }
        guard let nodeName = pod.spec.nodeName, !nodeName.isEmpty, nodeName == node else { return }
        // A node without NoExecute taints cancelled its pods' deletions when its taints went.
        guard let taints = taintedNodes.withLockedValue({ $0[nodeName] }) else { return }
        plan(key, tolerations: pod.spec.tolerations, taints: taints, now: time.now)
    }

    /// Acts on the plan for one pod (upstream's `processPodOnNode`).
    func plan(_ key: ObjectKey, tolerations: [Toleration], taints: [Taint], now: ContinuousClock.Instant) {
        let decision = TaintEvictionPlan.plan(
            taints: taints, tolerations: tolerations, now: now, scheduledSince: deletions.scheduledSince(key))
        switch decision {
        case .keep:
            return
        case .cancel:
            cancel(key)
        case .deleteNow:
            cancel(key)
            schedule(key, createdAt: now, fireAt: now)
        case .schedule(let createdAt, let fireAt):
            cancel(key)
            schedule(key, createdAt: createdAt, fireAt: fireAt)
        }
    }

    private func schedule(_ key: ObjectKey, createdAt: ContinuousClock.Instant, fireAt: ContinuousClock.Instant) {
        deletions.add(key, createdAt: createdAt, fireAt: fireAt) { [self] in
            recorder.eventf(
                regarding: Self.reference(key), type: .normal, reason: "TaintManagerEviction", action: "Delete",
                note: "Marking for deletion Pod \(key)")
            for attempt in 1...Self.deletionAttempts {
                do {
                    try await markAndDelete(key)
                    return true
                } catch {
                    logger.info("deleting pod \(key) for a NoExecute taint failed (attempt \(attempt)): \(error)")
                    guard (try? await time.sleep(for: .milliseconds(10))) != nil else { return false }
                }
            }
            return false
        }
    }

    private func cancel(_ key: ObjectKey) {
        guard deletions.cancel(key) else { return }
        recorder.eventf(
            regarding: Self.reference(key), type: .normal, reason: "TaintManagerEviction", action: "CancelDelete",
            note: "Cancelling deletion of Pod \(key)")
    }

    /// Adds the `DisruptionTarget` condition and deletes the pod (upstream's `addConditionAndDeletePod`); a pod
    /// already gone counts as deleted.
    private func markAndDelete(_ key: ObjectKey) async throws {
        let client = ResourceClient<Pod>(client: self.client, namespace: key.namespace)
        do {
            var pod = try await client.get(key.name)
            if Self.addDisruptionTarget(to: &pod.status, now: time.wallNow.timeIntervalSince1970) {
                _ = try await client.updateStatus(pod)
            }
            try await client.delete(
                key.name, options: DeleteOptions(preconditions: Preconditions(uid: pod.metadata.uid)))
        } catch let error as StatusError where error.code == 404 {
            return
        }
    }

    /// Sets `DisruptionTarget=True` with upstream's reason and message; whether the status changed.
    static func addDisruptionTarget(to status: inout PodStatus, now: Double) -> Bool {
        let reason = "DeletionByTaintManager"
        let message = "Taint manager: deleting due to NoExecute taint"
        let stamp = Timestamp.format(epochSeconds: Int64(now))
        guard let index = status.conditions.firstIndex(where: { $0.type == "DisruptionTarget" }) else {
            status.conditions.append(
                PodCondition(
                    type: "DisruptionTarget", status: "True", lastTransitionTime: stamp, message: message,
                    reason: reason))
            return true
        }
        let existing = status.conditions[index]
        guard existing.status != "True" || existing.reason != reason || existing.message != message else {
            return false
        }
        if existing.status != "True" { status.conditions[index].lastTransitionTime = stamp }
        status.conditions[index].status = "True"
        status.conditions[index].reason = reason
        status.conditions[index].message = message
        return true
    }

    /// The event reference upstream's taint manager uses for a pod: kind, name and namespace only.
    static func reference(_ key: ObjectKey) -> ObjectReference {
        ObjectReference(apiVersion: "v1", kind: "Pod", name: key.name, namespace: key.namespace)
    }
}

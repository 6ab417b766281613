import APIMachinery
import Client

extension Scheduler {
    /// Counts the pod on its node at once, then binds on a task of its own (upstream's binding cycle).
    func assumeAndBind(_ queued: QueuedPodInfo, node: String, profile: Profile, state: CycleState) {
        let podInfo = queued.podInfo
        cache.assume(podInfo, on: node)
        let reserve = profile.runReserve(state: state, pod: podInfo, nodeName: node)
        let permit = reserve.isSuccess ? profile.runPermit(state: state, pod: podInfo, nodeName: node) : reserve
        guard permit.isSuccess else {
            if reserve.isSuccess { profile.runUnreserve(state: state, pod: podInfo, nodeName: node) }
            cache.forget(uid: podInfo.uid)
            counters.withLockedValue { $0.errors += 1 }
            queue.requeueAfterError(queued)
            return
        }
        counters.withLockedValue { $0.scheduled += 1 }
        Task {
            await self.bind(queued, node: node, profile: profile, state: state)
        }
    }

    private func bind(_ queued: QueuedPodInfo, node: String, profile: Profile, state: CycleState) async {
        let podInfo = queued.podInfo
        var status = await profile.runPreBind(state: state, pod: podInfo, nodeName: node)
        guard mayActNow else {
            // No longer the leader: undo quietly and leave the pod to the one that is.
            profile.runUnreserve(state: state, pod: podInfo, nodeName: node)
            cache.forget(uid: podInfo.uid)
            queue.requeueAfterError(queued)
            return
        }
        if status.isSuccess { status = await profile.runBind(state: state, pod: podInfo, nodeName: node) }
        guard status.isSuccess else {
            counters.withLockedValue { $0.bindingErrors += 1 }
            logger.error(
                "Failed to bind pod", metadata: ["pod": "\(podInfo.key)", "node": "\(node)", "err": "\(status)"])
            profile.runUnreserve(state: state, pod: podInfo, nodeName: node)
            cache.forget(uid: podInfo.uid)
            // Its resources are free again, which may help pods that did not fit.
            queue.move(.assignedPodDelete)
            queue.requeueAfterError(queued)
            await recordFailure(
                pod: podInfo.pod, reason: "SchedulerError", message: "Binding rejected: \(status)", nominatedNode: nil)
            return
        }
        cache.finishBinding(uid: podInfo.uid)
        queue.done(uid: podInfo.uid)
        queue.clearNomination(uid: podInfo.uid)
        counters.withLockedValue { $0.bindings += 1 }
        logger.debug("Successfully bound pod to node", metadata: ["pod": "\(podInfo.key)", "node": "\(node)"])
        recorder?.eventf(
            regarding: ObjectReference(to: podInfo.pod), type: .normal, reason: "Scheduled", action: "Binding",
            note: "Successfully assigned \(podInfo.namespace)/\(podInfo.name) to \(node)")
        await profile.runPostBind(state: state, pod: podInfo, nodeName: node)
    }

    /// Tells the user why the pod is not placed: a `FailedScheduling` event and the PodScheduled condition
    /// (plus `nominatedNodeName` after a preemption), patched only when they change, as upstream does.
    func recordFailure(pod: Pod, reason: String, message: String, nominatedNode: String?) async {
        recorder?.eventf(
            regarding: ObjectReference(to: pod), type: .warning, reason: "FailedScheduling", action: "Scheduling",
            note: message)
        let current = pod.status.conditions.first { $0.type == "PodScheduled" }
        let conditionChanged =
            current?.status != "False" || current?.reason != reason || current?.message != message
        let nominationChanged =
            nominatedNode != nil && nominatedNode != (pod.status.nominatedNodeName ?? "")
        guard conditionChanged || nominationChanged, let name = pod.metadata.name else { return }
        var status: JSONObject = [:]
        if conditionChanged {
            var condition: JSONObject = [
                "type": "PodScheduled", "status": "False", "reason": .string(reason), "message": .string(message),
                "lastProbeTime": .null,
            ]
            condition["lastTransitionTime"] =
                current?.status == "False"
                ? current?.lastTransitionTime.map(JSON.string) ?? .string(Timestamp.now()) : .string(Timestamp.now())
            status["conditions"] = .array([.object(condition)])
        }
        if nominationChanged, let nominatedNode {
            status["nominatedNodeName"] = nominatedNode.isEmpty ? .null : .string(nominatedNode)
        }
        let patch: JSON = ["status": .object(status)]
        do {
            _ = try await client.patch(
                path: Pod.resource.path(namespace: pod.metadata.namespace, name: name, subresource: "status"),
                body: patch.encoded(), contentType: PatchType.strategicMerge.rawValue)
        } catch let error as StatusError where error.code == 404 {
            // Deleted meanwhile: the informer will drop it from the queue.
        } catch {
            logger.warning("Failed to update pod status", metadata: ["pod": "\(name)", "err": "\(error)"])
        }
    }
}

import APIMachinery
import Client
import Foundation

/// The pod side: a pod bound to a simulated node runs in a `PodStateMachine` whose status is reported as it
/// changes; a deleted pod is stopped and then removed for good, as the kubelet does.
extension NodeSimulator {
    /// Brings pod `key` up to date; false on a failure worth retrying.
    func syncPod(_ key: ObjectKey) async -> Bool {
        guard let pod = pods.lister.get(namespace: key.namespace, name: key.name) else {
            forget(key)
            return true
        }
        guard let nodeName = pod.spec.nodeName,
            let node = state.withLockedValue({ $0.nodes[nodeName] }), !node.deleted, !node.stopped
        else { return true }
        guard node.registered else {
            // The pod's node registers shortly; look again then.
            requeue(.pod(key), at: time.wallNow.addingTimeInterval(1))
            return true
        }
        let now = time.wallNow
        if pod.metadata.deletionTimestamp != nil {
            // A pod this simulator never ran (it finished before a restart, say) has nothing left to stop.
            guard var record = state.withLockedValue({ $0.pods[key] }), record.machine.uid == pod.metadata.uid else {
                return await deleteForGood(pod, node: nodeName)
            }
            return await stop(pod, record: &record, now: now)
        }
        guard var record = record(for: pod, node: node, now: now) else { return true }
        if let request = pod.metadata.annotations[SimulatorAnnotations.kill], request != record.killRequest {
            record.killRequest = request
            record.machine.kill(container: SimulatorAnnotations.container(ofKill: request), at: now)
        }
        record.machine.advance(to: now)
        let saved = record
        state.withLockedValue { $0.pods[key] = saved }
        do {
            try await report(pod, record: record)
        } catch {
            // A conflict only means the cache is behind the pod: the retry reads the newer one.
            let conflict = (error as? StatusError)?.statusReason == .conflict
            if !Task.isCancelled && !conflict {
                logger.warning("pod status update failed", metadata: ["pod": "\(key)", "error": "\(error)"])
            }
            return false
        }
        if let deadline = record.machine.nextDeadline { requeue(.pod(key), at: deadline) }
        return true
    }

    /// The pod's record, made when the pod is first seen (or seen again with a new UID): a new machine, an
    /// address from the node's range (the node's own for host-network pods), an existing kill request ignored.
    private func record(for pod: Pod, node: NodeRecord, now: Date) -> PodRecord? {
        let key = pod.key
        let uid = pod.metadata.uid ?? ""
        let name = node.template.name
        return state.withLockedValue { state -> PodRecord? in
            if let existing = state.pods[key], existing.machine.uid == uid { return existing }
            if let stale = state.pods.removeValue(forKey: key) {
                state.nodes[stale.node]?.addresses.release(stale.podIP)
            }
            // A pod that finished before this simulator saw it (a restart) is left as it was reported.
            if pod.status.phase == "Succeeded" || pod.status.phase == "Failed", pod.metadata.deletionTimestamp == nil {
                return nil
            }
            let hostIP = node.template.internalIP
            var podIP = hostIP
            if pod.spec.hostNetwork != true {
                if let previous = pod.status.podIP, state.nodes[name]?.addresses.reserve(previous) == true {
                    podIP = previous
                } else if let address = state.nodes[name]?.addresses.allocate() {
                    podIP = address
                } else {
                    logger.warning("no pod address left on node", metadata: ["node": "\(name)", "pod": "\(key)"])
                    return nil
                }
            }
            // A pod started before this simulator was (a restart) keeps its start time, and its containers
            // replay from then, so a `sleep 600` still ends ten minutes after it began.
            let start =
                pod.status.startTime.flatMap(Timestamp.parse).map { Date(timeIntervalSince1970: TimeInterval($0)) }
                .flatMap { $0 <= now ? $0 : nil } ?? now
            var machine = PodStateMachine(pod: pod, now: start)
            machine.advance(to: now)
            let record = PodRecord(
                machine: machine, node: name, podIP: podIP, hostIP: hostIP,
                killRequest: pod.metadata.annotations[SimulatorAnnotations.kill])
            state.pods[key] = record
            return record
        }
    }

    /// Writes the machine's status when it differs from both the pod's and the last one written (the informer
    /// may not have brought that write back yet).
    private func report(_ pod: Pod, record: PodRecord) async throws {
        let status = record.machine.status(merging: pod.status, hostIP: record.hostIP, podIP: record.podIP)
        // A hash, not the status, is kept per pod: a collision would cost one skipped write in 2^64.
        let reported = status.hashValue
        guard status != pod.status, reported != record.lastReported else { return }
        var updated = pod
        updated.status = status
        let client = try await credentials.client(forNode: record.node)
        do {
            _ = try await ResourceClient<Pod>(client: client, logger: logger).updateStatus(updated)
        } catch let error as StatusError where error.statusReason == .notFound {
            return
        }
        count("pod-status")
        state.withLockedValue { state in
            if state.pods[pod.key]?.machine.uid == record.machine.uid { state.pods[pod.key]?.lastReported = reported }
        }
    }

    /// Stops a deleted pod's containers, reports them terminated, then deletes the pod for good with a zero
    /// grace period and its UID as precondition, so a new pod of the same name is never removed by mistake.
    private func stop(_ pod: Pod, record: inout PodRecord, now: Date) async -> Bool {
        guard !record.deleteSent else { return true }
        record.machine.stop(at: now)
        let saved = record
        state.withLockedValue { $0.pods[pod.key] = saved }
        do {
            try await report(pod, record: record)
        } catch {
            if !Task.isCancelled {
                logger.warning("pod status update failed", metadata: ["pod": "\(pod.key)", "error": "\(error)"])
            }
            return false
        }
        guard await deleteForGood(pod, node: record.node) else { return false }
        state.withLockedValue { state in
            if state.pods[pod.key]?.machine.uid == record.machine.uid { state.pods[pod.key]?.deleteSent = true }
        }
        return true
    }

    /// The kubelet's final delete: grace period zero, the pod's UID as precondition.
    private func deleteForGood(_ pod: Pod, node: String) async -> Bool {
        let options = DeleteOptions(gracePeriodSeconds: 0, preconditions: Preconditions(uid: pod.metadata.uid))
        do {
            let client = try await credentials.client(forNode: node)
            try await ResourceClient<Pod>(client: client, namespace: pod.metadata.namespace, logger: logger).delete(
                pod.metadata.name ?? "", options: options)
            count("pod-delete")
        } catch let error as StatusError where error.statusReason == .notFound || error.statusReason == .conflict {
            // Gone already, or a new pod took the name: nothing of ours is left to delete.
        } catch {
            if !Task.isCancelled {
                logger.warning("pod deletion failed", metadata: ["pod": "\(pod.key)", "error": "\(error)"])
            }
            return false
        }
        return true
    }

    /// Drops a pod that left the cluster and frees its address.
    private func forget(_ key: ObjectKey) {
        state.withLockedValue { state in
            guard let record = state.pods.removeValue(forKey: key) else { return }
            if record.podIP != record.hostIP { state.nodes[record.node]?.addresses.release(record.podIP) }
        }
    }
}

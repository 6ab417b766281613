import APIMachinery
import Client
import Foundation

/// The node side: registration as a kubelet 1.20+ does it, Lease renewals, periodic status, stop and start.
extension NodeSimulator {
    /// Registers, renews and reports for node `name` as due, then queues it for its next due time; false on a
    /// failure worth retrying.
    func syncNode(_ name: String) async -> Bool {
        guard let record = state.withLockedValue({ $0.nodes[name] }), !record.stopped, !record.deleted else {
            return true
        }
        do {
            if !record.registered {
                try await register(record)
                return true
            }
            let now = time.wallNow
            let due = configuration.schedule.due(now: now, lease: record.nextLease, status: record.nextStatus)
            if due.postStatus || record.statusDirty { try await postStatus(record, now: now) }
            if due.renewLease { try await renewLease(name, now: now) }
            guard let next = state.withLockedValue({ $0.nodes[name] }) else { return true }
            requeue(.node(name), at: min(next.nextLease, next.nextStatus))
            return true
        } catch {
            // A sync cut short by the simulator stopping is no failure worth a word.
            if !Task.isCancelled {
                logger.warning("node sync failed", metadata: ["node": "\(name)", "error": "\(error)"])
            }
            return false
        }
    }

    /// Creates the Node (or adopts an existing one, keeping its stop mark) and its Lease, as a kubelet's first
    /// `registerWithAPIServer` and lease controller run.
    private func register(_ record: NodeRecord) async throws {
        let template = record.template
        let name = template.name
        let client = try await credentials.client(forNode: name)
        let nodeClient = ResourceClient<Node>(client: client, logger: logger)
        let now = time.wallNow
        var uid: String?
        var stopped = false
        var adopted = nodes.lister.get(name: name) != nil
        if let existing = nodes.lister.get(name: name) {
            // As the kubelet reconciles an existing Node: its labels and annotations are set again, the rest of
            // the status follows in the next post.
            let labels = template.labels.sorted { $0.key < $1.key }.map { (key: $0.key, value: JSON.string($0.value)) }
            let patch: JSON = [
                "metadata": [
                    "labels": .object(JSONObject(labels)),
                    "annotations": [SimulatorAnnotations.simulated: "true"],
                ]
            ]
            let patched = try await nodeClient.patch(name, patch)
            uid = patched.metadata.uid
            stopped = existing.metadata.annotations[SimulatorAnnotations.state] == SimulatorAnnotations.stopped
        } else {
            do {
                let created = try await nodeClient.create(template.node(readySince: now, now: now))
                count("node-create")
                uid = created.metadata.uid
            } catch let error as StatusError where error.statusReason == .alreadyExists {
                uid = try await nodeClient.get(name).metadata.uid
                adopted = true
            }
        }
        let count = configuration.count
        let schedule = configuration.schedule
        let wasAdopted = adopted
        state.withLockedValue { state in
            state.nodes[name]?.registered = true
            state.nodes[name]?.uid = uid
            state.nodes[name]?.stopped = stopped
            state.nodes[name]?.readySince = now
            // A created Node carried its first status; an adopted one gets a full status post next.
            state.nodes[name]?.statusDirty = wasAdopted
            state.nodes[name]?.nextLease = now
            state.nodes[name]?.nextStatus = schedule.firstStatusReport(index: template.index, count: count, start: now)
        }
        logger.info("registered node", metadata: ["node": "\(name)"])
        guard !stopped else { return }
        try await renewLease(name, now: now)
        state.withLockedValue { state in
            state.nodes[name]?.nextLease = schedule.firstLeaseRenewal(index: template.index, count: count, start: now)
        }
        requeue(.node(name), at: now)
        enqueuePods(onNode: name)
    }

    /// Posts the node's whole status (conditions with a fresh heartbeat) with a merge patch of `status`, as the
    /// kubelet's `tryUpdateNodeStatus` patches it.
    private func postStatus(_ record: NodeRecord, now: Date) async throws {
        let name = record.template.name
        let client = try await credentials.client(forNode: name)
        let status = record.template.status(readySince: record.readySince, now: now)
        do {
            _ = try await ResourceClient<Node>(client: client, logger: logger).patch(
                name, ["status": status.toJSON()], subresource: "status")
        } catch let error as StatusError where error.statusReason == .notFound {
            markDeleted(name)
            return
        }
        count("node-status")
        let schedule = configuration.schedule
        state.withLockedValue { state in
            state.nodes[name]?.statusDirty = false
            state.nodes[name]?.nextStatus = schedule.statusReport(after: now)
        }
    }

    /// Renews the node's Lease with one update of the copy kept from the last write, reading or creating it
    /// only when that copy is missing or stale, as the kubelet's lease controller does.
    private func renewLease(_ name: String, now: Date) async throws {
        guard let record = state.withLockedValue({ $0.nodes[name] }) else { return }
        let client = try await credentials.client(forNode: name)
        let leases = ResourceClient<Lease>(client: client, namespace: "kube-node-lease", logger: logger)
        let duration = configuration.leaseDurationSeconds
        var lease = record.lease
        if lease == nil {
            do {
                lease = try await leases.get(name)
            } catch let error as StatusError where error.statusReason == .notFound {
                let created = try await leases.create(
                    record.template.lease(nodeUID: record.uid, renewTime: now, durationSeconds: duration))
                count("lease")
                finishRenewal(name, lease: created, now: now)
                return
            }
        }
        guard var renewed = lease else { return }
        renewed.spec.holderIdentity = name
        renewed.spec.leaseDurationSeconds = duration
        renewed.spec.renewTime = NodeTemplate.microTime(now)
        do {
            let updated = try await leases.update(renewed)
            count("lease")
            finishRenewal(name, lease: updated, now: now)
        } catch let error as StatusError where error.statusReason == .conflict || error.statusReason == .notFound {
            // Read again on the next try.
            state.withLockedValue { $0.nodes[name]?.lease = nil }
            throw error
        }
    }

    private func finishRenewal(_ name: String, lease: Lease, now: Date) {
        let schedule = configuration.schedule
        state.withLockedValue { state in
            state.nodes[name]?.lease = lease
            state.nodes[name]?.nextLease = schedule.leaseRenewal(after: now)
        }
    }

    /// Follows a Node's stop mark and pod CIDR from the informer.
    func observe(_ node: Node) {
        guard let name = node.metadata.name, nodeNames.contains(name) else { return }
        let stopped = node.metadata.annotations[SimulatorAnnotations.state] == SimulatorAnnotations.stopped
        let podCIDR = node.spec.podCIDR ?? node.spec.podCIDRs.first
        let now = time.wallNow
        let (changed, started) = state.withLockedValue { state -> (Bool, Bool) in
            guard var record = state.nodes[name], record.registered else { return (false, false) }
            if let podCIDR, podCIDR != record.addresses.cidr, var pool = PodAddressPool(cidr: podCIDR) {
                // Pods keep the addresses they have; new ones come from the controller's range.
                for pod in state.pods.values where pod.node == name { pool.reserve(pod.podIP) }
                record.addresses = pool
            }
            let changed = record.stopped != stopped
            if changed {
                record.stopped = stopped
                if !stopped {
                    record.statusDirty = true
                    record.readySince = now
                    record.nextLease = now
                }
            }
            state.nodes[name] = record
            return (changed, changed && !stopped)
        }
        guard changed else { return }
        logger.info(started ? "node started" : "node stopped", metadata: ["node": "\(name)"])
        if started {
            queue.add(.node(name))
            enqueuePods(onNode: name)
        }
    }

    /// A Node deleted from the API stays deleted, as a kubelet registers only when it starts.
    func nodeDeleted(_ name: String) {
        guard nodeNames.contains(name) else { return }
        markDeleted(name)
    }

    private func markDeleted(_ name: String) {
        let wasRegistered = state.withLockedValue { state -> Bool in
            let registered = state.nodes[name]?.registered ?? false
            if registered { state.nodes[name]?.deleted = true }
            return registered
        }
        if wasRegistered { logger.warning("node was deleted; it stays unregistered", metadata: ["node": "\(name)"]) }
    }
}

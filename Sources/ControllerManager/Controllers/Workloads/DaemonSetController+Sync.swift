import APIMachinery
import Client
import Foundation

/// What one sync decided to do.
struct DaemonSetPlan {
    /// Nodes to place a new pod on.
    var create: [String] = []
    var delete: [Pod] = []
}

extension DaemonSetController {
    /// One level-triggered pass: claim pods and revisions, place and remove pods (once earlier requests are
    /// all seen), roll pods to the current template, write status.
    func sync(_ key: ObjectKey) async throws {
        guard let set = sets.get(namespace: key.namespace, name: key.name) else {
            expectations.delete(key)
            return
        }
        guard let selector = try? set.spec.selector?.labelSelector(), let template = set.spec.template else {
            context.logger.error("daemonset \(key) has no usable selector or template")
            return
        }
        let client = context.client
        let canAdopt: @Sendable () async throws -> Bool = {
            let fresh = try await ResourceClient<DaemonSet>(client: client, namespace: key.namespace).get(key.name)
            return fresh.metadata.uid == set.metadata.uid && !fresh.metadata.isDeleting
        }
        let claimed = try await ControllerRefManager<Pod>(client: client).claim(
            pods.list(namespace: key.namespace), owner: set, selector: selector, canAdopt: canAdopt)
        let owned = try await ControllerRefManager<ControllerRevision>(client: client).claim(
            revisions.list(namespace: key.namespace), owner: set, selector: selector, canAdopt: canAdopt)
        let (revision, collisionCount) = try await history.ensure(
            owner: set, template: template, collisionCount: set.status.collisionCount, revisions: owned)
        let hash = revision.metadata.labels[ControllerHistory.hashLabel] ?? ""

        let byNode = Dictionary(grouping: claimed.filter { !$0.metadata.isDeleting }) {
            DaemonSetRules.targetNode($0) ?? ""
        }.mapValues { $0.sorted(by: Self.olderFirst) }
        let nodeList = nodes.list()
        let podTemplate = DaemonSetRules.podTemplate(set, hash: hash)
        if expectations.satisfied(key), !set.metadata.isDeleting {
            let plan = plan(set, nodes: nodeList, byNode: byNode, template: podTemplate, hash: hash)
            try await execute(plan, set: set, template: podTemplate)
        }
        let status = Self.status(
            set, nodes: nodeList, byNode: byNode, template: podTemplate, hash: hash, collisionCount: collisionCount,
            now: Int64(context.time.wallNow.timeIntervalSince1970))
        try await StatusWriter.write(set, client: client) { $0.status = status }
        if let minReady = set.spec.minReadySeconds, minReady > 0, status.numberReady != status.numberAvailable {
            queue.add(key, after: .seconds(Int(minReady)))
        }
        var inUse: Set<String> = [revision.metadata.name ?? ""]
        let usedHashes = Set(claimed.compactMap { $0.metadata.labels[StatefulSetIdentity.revisionLabel] })
        for candidate in owned
        where usedHashes.contains(candidate.metadata.labels[ControllerHistory.hashLabel] ?? "") {
            inUse.insert(candidate.metadata.name ?? "")
        }
        try await history.truncate(
            owned, live: inUse, limit: Int(set.spec.revisionHistoryLimit ?? 10), namespace: key.namespace)
    }

    static func olderFirst(_ a: Pod, _ b: Pod) -> Bool {
        let first = a.metadata.creationTimestamp.flatMap(Timestamp.parse) ?? 0
        let second = b.metadata.creationTimestamp.flatMap(Timestamp.parse) ?? 0
        return first != second ? first < second : (a.metadata.name ?? "") < (b.metadata.name ?? "")
    }

    /// Where pods are missing, failed, doubled up or misplaced, and the rolling update's next step.
    func plan(
        _ set: DaemonSet, nodes: [Node], byNode: [String: [Pod]], template: PodTemplateSpec, hash: String
    ) -> DaemonSetPlan {
        var plan = DaemonSetPlan()
        let rolling = set.spec.updateStrategy?.type != "OnDelete"
        let desired = nodes.filter { DaemonSetRules.placement($0, template: template).shouldRun }.count
        let bounds = DaemonSetRules.rollingBounds(set, desired: desired)
        let surging = rolling && bounds.maxSurge > 0
        let reference = ObjectReference(to: set)
        for node in nodes {
            let name = node.metadata.name ?? ""
            let (shouldRun, shouldContinue) = DaemonSetRules.placement(node, template: template)
            let onNode = byNode[name] ?? []
            if shouldRun, onNode.isEmpty {
                plan.create.append(name)
            } else if shouldContinue {
                var running: [Pod] = []
                for pod in onNode {
                    if pod.status.phase == "Failed" {
                        context.recorder.eventf(
                            regarding: reference, type: .warning, reason: "FailedDaemonPod", action: "Delete",
                            note:
                                "Found failed daemon pod \(pod.metadata.namespace ?? "")/\(pod.metadata.name ?? "") on node \(name), will try to kill it"
                        )
                        plan.delete.append(pod)
                    } else {
                        running.append(pod)
                    }
                }
                // Only the oldest stays; while surging, the oldest updated pod may stay beside it.
                let keptUpdated = surging ? running.first { Self.isUpdated($0, hash: hash) } : nil
                for (index, pod) in running.enumerated()
                where index > 0 && pod.metadata.uid != keptUpdated?.metadata.uid {
                    plan.delete.append(pod)
                }
                if running.isEmpty, shouldRun { plan.create.append(name) }
            } else {
                plan.delete += onNode
            }
        }
        if rolling { rollingUpdate(set, nodes: nodes, byNode: byNode, template: template, hash: hash, plan: &plan) }
        return plan
    }

    static func isUpdated(_ pod: Pod, hash: String) -> Bool {
        pod.metadata.labels[StatefulSetIdentity.revisionLabel] == hash
    }

    /// Upstream's `rollingUpdate`: without surge, old pods are deleted while fewer than `maxUnavailable`
    /// nodes lack an available pod (unavailable old pods go at once); with surge, new pods are placed beside
    /// available old ones up to `maxSurge`, and an old pod goes once its replacement is available.
    private func rollingUpdate(
        _ set: DaemonSet, nodes: [Node], byNode: [String: [Pod]], template: PodTemplateSpec, hash: String,
        plan: inout DaemonSetPlan
    ) {
        let now = Int64(context.time.wallNow.timeIntervalSince1970)
        let minReady = Int(set.spec.minReadySeconds ?? 0)
        let available = { (pod: Pod) in PodAvailability.isAvailable(pod, minReadySeconds: minReady, now: now) }
        let eligible = nodes.filter { DaemonSetRules.placement($0, template: template).shouldRun }
        let bounds = DaemonSetRules.rollingBounds(set, desired: eligible.count)
        let planned = Set(plan.delete.compactMap(\.metadata.uid))
        var candidates: [(node: String, old: Pod)] = []
        var used = 0
        for node in eligible {
            let name = node.metadata.name ?? ""
            let onNode = (byNode[name] ?? []).filter { !planned.contains($0.metadata.uid ?? "") }
            let new = onNode.first { Self.isUpdated($0, hash: hash) }
            let old = onNode.first { !Self.isUpdated($0, hash: hash) }
            if bounds.maxSurge == 0 {
                if let new {
                    if !available(new) { used += 1 }
                } else if let old {
                    if available(old) {
                        candidates.append((name, old))
                    } else {
                        plan.delete.append(old)
                        used += 1
                    }
                } else {
                    used += 1
                }
            } else if let old {
                if let new {
                    if available(new) { plan.delete.append(old) } else { used += 1 }
                } else if !available(old) {
                    plan.create.append(name)
                } else {
                    candidates.append((name, old))
                }
            }
        }
        let budget = bounds.maxSurge == 0 ? bounds.maxUnavailable : bounds.maxSurge
        for candidate in candidates.prefix(max(0, budget - used)) {
            if bounds.maxSurge == 0 { plan.delete.append(candidate.old) } else { plan.create.append(candidate.node) }
        }
    }

    /// Creates and deletes what `plan` says, with expectations so a lagging cache never doubles a request.
    private func execute(_ plan: DaemonSetPlan, set: DaemonSet, template: PodTemplateSpec) async throws {
        guard !plan.create.isEmpty || !plan.delete.isEmpty else { return }
        let key = set.key
        expectations.expect(key, adds: plan.create.count, deleting: plan.delete.map { $0.metadata.uid ?? "" })
        var firstError: (any Error)?
        for node in plan.create {
            var pod = PodControl.pod(from: template, owner: set)
            pod.spec.affinity = DaemonSetRules.pinning(pod.spec.affinity, to: node)
            do {
                try await podControl.create(pod, owner: set)
            } catch {
                expectations.creationObserved(key)
                firstError = firstError ?? error
            }
        }
        for pod in plan.delete {
            do {
                try await podControl.delete(pod, owner: set)
            } catch {
                expectations.deletionObserved(key, uid: pod.metadata.uid ?? "")
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    /// The status the set has with these pods on these nodes (upstream's `updateDaemonSetStatus`).
    static func status(
        _ set: DaemonSet, nodes: [Node], byNode: [String: [Pod]], template: PodTemplateSpec, hash: String,
        collisionCount: Int32?, now: Int64
    ) -> DaemonSetStatus {
        var desired: Int32 = 0
        var current: Int32 = 0
        var misscheduled: Int32 = 0
        var ready: Int32 = 0
        var available: Int32 = 0
        var updated: Int32 = 0
        let minReady = Int(set.spec.minReadySeconds ?? 0)
        for node in nodes {
            let onNode = byNode[node.metadata.name ?? ""] ?? []
            guard DaemonSetRules.placement(node, template: template).shouldRun else {
                if !onNode.isEmpty { misscheduled += 1 }
                continue
            }
            desired += 1
            guard let pod = onNode.first else { continue }
            current += 1
            if PodAvailability.isReady(pod) {
                ready += 1
                if PodAvailability.isAvailable(pod, minReadySeconds: minReady, now: now) { available += 1 }
            }
            if isUpdated(pod, hash: hash) { updated += 1 }
        }
        var status = set.status
        status.desiredNumberScheduled = desired
        status.currentNumberScheduled = current
        status.numberMisscheduled = misscheduled
        status.numberReady = ready
        status.numberAvailable = available
        status.numberUnavailable = desired - available
        status.updatedNumberScheduled = updated
        status.observedGeneration = set.metadata.generation
        status.collisionCount = collisionCount
        return status
    }
}

import APIMachinery
import Client
import Foundation

/// The revisions one sync works with.
struct StatefulSetRevisions {
    var current: ControllerRevision
    var update: ControllerRevision
    var currentTemplate: PodTemplateSpec
    var updateTemplate: PodTemplateSpec
}

extension StatefulSetController {
    /// One level-triggered pass: claim pods and revisions, make the step the policy allows, write status.
    func sync(_ key: ObjectKey) async throws {
        guard let set = sets.get(namespace: key.namespace, name: key.name) else { return }
        guard let selector = try? set.spec.selector?.labelSelector(), let template = set.spec.template else {
            context.logger.error("statefulset \(key) has no usable selector or template")
            return
        }
        let client = context.client
        let canAdopt: @Sendable () async throws -> Bool = {
            let fresh = try await ResourceClient<StatefulSet>(client: client, namespace: key.namespace).get(key.name)
            return fresh.metadata.uid == set.metadata.uid && !fresh.metadata.isDeleting
        }
        let setName = set.metadata.name ?? ""
        let candidates = pods.list(namespace: key.namespace).filter {
            $0.metadata.controllerRef?.uid == set.metadata.uid
                || StatefulSetIdentity.ordinal(of: $0.metadata.name ?? "", setName: setName) != nil
        }
        let claimed = try await ControllerRefManager<Pod>(client: client).claim(
            candidates, owner: set, selector: selector, canAdopt: canAdopt)
        var owned = try await ControllerRefManager<ControllerRevision>(client: client).claim(
            revisions.list(namespace: key.namespace), owner: set, selector: selector, canAdopt: canAdopt)

        let (update, collisionCount) = try await history.ensure(
            owner: set, template: template, collisionCount: set.status.collisionCount, revisions: owned)
        owned.removeAll { $0.metadata.name == update.metadata.name }
        owned.append(update)
        let current = owned.first { $0.metadata.name == set.status.currentRevision } ?? update
        let revisions = StatefulSetRevisions(
            current: current, update: update, currentTemplate: ControllerHistory.template(current) ?? template,
            updateTemplate: template)

        var live = claimed
        if !set.metadata.isDeleting {
            live += try await manage(set, pods: claimed, revisions: revisions)
        }
        let status = StatefulSetStatusRules.status(
            set, pods: live, revisions: revisions, collisionCount: collisionCount,
            now: Int64(context.time.wallNow.timeIntervalSince1970))
        try await write(status, to: set)

        var inUse: Set<String> = [current.metadata.name ?? "", update.metadata.name ?? ""]
        for pod in live { if let name = pod.metadata.labels[StatefulSetIdentity.revisionLabel] { inUse.insert(name) } }
        try await history.truncate(
            owned, live: inUse, limit: Int(set.spec.revisionHistoryLimit ?? 10), namespace: key.namespace)
    }

    /// Creates, deletes or replaces pods as the policy allows this pass; returns the pods it created.
    private func manage(
        _ set: StatefulSet, pods claimed: [Pod], revisions: StatefulSetRevisions
    ) async throws -> [Pod] {
        let ordered = StatefulSetIdentity.isOrdered(set)
        let (replicas, condemned) = StatefulSetIdentity.split(claimed, set: set)
        let start = StatefulSetIdentity.startOrdinal(set)
        let now = Int64(context.time.wallNow.timeIntervalSince1970)
        let minReady = Int(set.spec.minReadySeconds ?? 0)
        var created: [Pod] = []

        // Finished pods are deleted, and made again on the next pass.
        for ordinal in replicas.keys.sorted() {
            guard let pod = replicas[ordinal], StatefulSetIdentity.isFinished(pod), !pod.metadata.isDeleting else {
                continue
            }
            try await deletePod(pod, set: set)
            if ordered { return created }
        }

        for ordinal in start..<(start + StatefulSetIdentity.replicas(set)) {
            guard let pod = replicas[ordinal] else {
                let useCurrent = StatefulSetIdentity.usesCurrentRevision(set, ordinal: ordinal)
                let pod = StatefulSetIdentity.pod(
                    set, template: useCurrent ? revisions.currentTemplate : revisions.updateTemplate,
                    ordinal: ordinal,
                    revision: (useCurrent ? revisions.current : revisions.update).metadata.name ?? "")
                created.append(try await createPod(pod, set: set, ordinal: ordinal))
                if ordered { return created }
                continue
            }
            let available =
                StatefulSetIdentity.isRunningAndReady(pod)
                && PodAvailability.isAvailable(pod, minReadySeconds: minReady, now: now)
            if ordered, !available { return created }
        }

        for pod in condemned {
            if pod.metadata.isDeleting {
                if ordered { return created }
                continue
            }
            // Ordered scale-down waits until every other pod is healthy.
            if ordered,
                claimed.contains(where: {
                    $0.metadata.name != pod.metadata.name && !StatefulSetIdentity.isRunningAndReady($0)
                })
            {
                return created
            }
            try await deletePod(pod, set: set)
            if ordered { return created }
        }

        guard StatefulSetIdentity.isRollingUpdate(set) else { return created }
        let updateName = revisions.update.metadata.name ?? ""
        for ordinal in StatefulSetIdentity.updateOrder(set) {
            guard let pod = replicas[ordinal] else { continue }
            if pod.metadata.labels[StatefulSetIdentity.revisionLabel] != updateName, !pod.metadata.isDeleting {
                try await deletePod(pod, set: set)
                return created
            }
            if !StatefulSetIdentity.isRunningAndReady(pod) { return created }
        }
        return created
    }

    /// Creates the pod's claims (those missing) and then the pod, recording events as upstream.
    private func createPod(_ pod: Pod, set: StatefulSet, ordinal: Int) async throws -> Pod {
        let namespace = set.metadata.namespace ?? ""
        let setName = set.metadata.name ?? ""
        let podName = pod.metadata.name ?? ""
        let reference = ObjectReference(to: set)
        for template in set.spec.volumeClaimTemplates {
            let claim = StatefulSetIdentity.claim(template, set: set, ordinal: ordinal)
            let claimName = claim.metadata.name ?? ""
            guard claims.get(namespace: namespace, name: claimName) == nil else { continue }
            do {
                _ = try await ResourceClient<PersistentVolumeClaim>(client: context.client, namespace: namespace)
                    .create(claim)
                context.recorder.eventf(
                    regarding: reference, type: .normal, reason: "SuccessfulCreate", action: "Create",
                    note: "create Claim \(claimName) Pod \(podName) in StatefulSet \(setName) success")
            } catch let error as StatusError where error.code == 409 {
                continue
            } catch {
                context.recorder.eventf(
                    regarding: reference, type: .warning, reason: "FailedCreate", action: "Create",
                    note:
                        "create Claim \(claimName) for Pod \(podName) in StatefulSet \(setName) failed error: \(error)"
                )
                throw error
            }
        }
        do {
            let created = try await ResourceClient<Pod>(client: context.client, namespace: namespace).create(pod)
            context.recorder.eventf(
                regarding: reference, type: .normal, reason: "SuccessfulCreate", action: "Create",
                note: "create Pod \(podName) in StatefulSet \(setName) successful")
            return created
        } catch {
            context.recorder.eventf(
                regarding: reference, type: .warning, reason: "FailedCreate", action: "Create",
                note: "create Pod \(podName) in StatefulSet \(setName) failed error: \(error)")
            throw error
        }
    }

    /// Deletes a pod of the set, recording events as upstream (a pod already gone counts as deleted).
    private func deletePod(_ pod: Pod, set: StatefulSet) async throws {
        let podName = pod.metadata.name ?? ""
        let setName = set.metadata.name ?? ""
        let reference = ObjectReference(to: set)
        do {
            try await ResourceClient<Pod>(client: context.client, namespace: pod.metadata.namespace).delete(podName)
            context.recorder.eventf(
                regarding: reference, type: .normal, reason: "SuccessfulDelete", action: "Delete",
                note: "delete Pod \(podName) in StatefulSet \(setName) successful")
        } catch let error as StatusError where error.code == 404 {
            return
        } catch {
            context.recorder.eventf(
                regarding: reference, type: .warning, reason: "FailedDelete", action: "Delete",
                note: "delete Pod \(podName) in StatefulSet \(setName) failed error: \(error)")
            throw error
        }
    }

    /// Writes `status` unless the stored one already says it.
    private func write(_ status: StatefulSetStatus, to set: StatefulSet) async throws {
        try await StatusWriter.write(set, client: context.client) { $0.status = status }
    }
}

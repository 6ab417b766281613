import APIMachinery
import Client

extension DeploymentController {
    /// The new ReplicaSet (created when `create` and missing) with its revision annotations brought up to
    /// date, and every old one, as upstream's `getAllReplicaSetsAndSyncRevision`.
    func newAndOldReplicaSets(_ deployment: inout Deployment, _ owned: [ReplicaSet], create: Bool) async throws
        -> (new: ReplicaSet?, old: [ReplicaSet])
    {
        let (found, old) = Self.splitReplicaSets(deployment, owned)
        let newRevision = String(DeploymentRules.maxRevision(old) + 1)
        if let found {
            var existing = found
            let annotationsChanged = Self.setNewReplicaSetAnnotations(
                deployment, &existing, revision: newRevision, exists: true)
            if annotationsChanged || existing.spec.minReadySeconds != deployment.spec.minReadySeconds {
                existing.spec.minReadySeconds = deployment.spec.minReadySeconds
                existing = try await update(existing, from: found, deployment)
            }
            var changed = setRevision(&deployment, existing.metadata.annotations[DeploymentRules.revisionAnnotation])
            if condition(deployment.status, .progressing) == nil {
                setCondition(
                    &deployment.status, .progressing, "True", reason: "FoundNewReplicaSet",
                    message: "Found new replica set \"\(existing.metadata.name ?? "")\"")
                changed = true
            }
            if changed { deployment = try await writeStatus(deployment) }
            return (existing, old)
        }
        guard create else { return (nil, old) }
        return (try await createNewReplicaSet(&deployment, old: old, revision: newRevision), old)
    }

    private func createNewReplicaSet(_ deployment: inout Deployment, old: [ReplicaSet], revision: String) async throws
        -> ReplicaSet
    {
        var template = deployment.spec.template ?? PodTemplateSpec()
        let hash = PodTemplateHash.compute(template, collisionCount: deployment.status.collisionCount)
        var templateMetadata = template.metadata ?? ObjectMeta()
        templateMetadata.labels[PodTemplateHash.labelKey] = hash
        template.metadata = templateMetadata
        var selector = deployment.spec.selector ?? MetaLabelSelector()
        selector.matchLabels[PodTemplateHash.labelKey] = hash

        var replicaSet = ReplicaSet()
        replicaSet.metadata.name = "\(deployment.metadata.name ?? "")-\(hash)"
        replicaSet.metadata.namespace = deployment.metadata.namespace
        replicaSet.metadata.ownerReferences = [OwnerReference(controller: deployment)]
        replicaSet.metadata.labels = templateMetadata.labels
        replicaSet.spec = ReplicaSetSpec()
        replicaSet.spec.replicas = 0
        replicaSet.spec.minReadySeconds = deployment.spec.minReadySeconds
        replicaSet.spec.selector = selector
        replicaSet.spec.template = template
        let replicas = DeploymentRules.newReplicaSetReplicas(deployment, all: old + [replicaSet], new: replicaSet)
        replicaSet.spec.replicas = Int32(replicas)
        _ = Self.setNewReplicaSetAnnotations(deployment, &replicaSet, revision: revision, exists: false)

        let created: ReplicaSet
        var alreadyExisted = false
        do {
            created = try await replicaSetClient(deployment).create(replicaSet)
        } catch let error as StatusError where error.statusReason == .alreadyExists {
            // Ours from an earlier pass the cache has not shown yet, or a hash collision.
            let existing = try await replicaSetClient(deployment).get(replicaSet.metadata.name ?? "")
            guard existing.metadata.controllerRef?.uid == deployment.metadata.uid,
                DeploymentRules.equalIgnoringHash(existing.spec.template, deployment.spec.template)
            else {
                deployment.status.collisionCount = (deployment.status.collisionCount ?? 0) + 1
                deployment = try await writeStatus(deployment)
                throw error
            }
            created = existing
            alreadyExisted = true
        } catch let error as StatusError where ReplicaSetController.isNamespaceTerminating(error) {
            throw error
        } catch {
            let message = "Failed to create new replica set \"\(replicaSet.metadata.name ?? "")\": \(error)"
            if DeploymentRules.hasProgressDeadline(deployment) {
                setCondition(
                    &deployment.status, .progressing, "False", reason: "ReplicaSetCreateError", message: message)
                deployment = (try? await writeStatus(deployment)) ?? deployment
            }
            record(deployment, .warning, "ReplicaSetCreateError", message)
            throw error
        }
        if !alreadyExisted, replicas > 0 {
            record(
                deployment, .normal, "ScalingReplicaSet",
                "Scaled up replica set \(created.metadata.name ?? "") from 0 to \(replicas)")
        }
        var changed = setRevision(&deployment, revision)
        if !alreadyExisted, DeploymentRules.hasProgressDeadline(deployment) {
            setCondition(
                &deployment.status, .progressing, "True", reason: "NewReplicaSetCreated",
                message: "Created new replica set \"\(created.metadata.name ?? "")\"")
            changed = true
        }
        if changed { deployment = try await writeStatus(deployment) }
        return created
    }

    /// Copies the Deployment's own annotations, raises the revision (keeping history), and on creation
    /// records the sizes the Deployment had; whether anything changed.
    static func setNewReplicaSetAnnotations(
        _ deployment: Deployment, _ replicaSet: inout ReplicaSet, revision: String, exists: Bool
    ) -> Bool {
        var changed = false
        for (key, value) in deployment.metadata.annotations
        where !DeploymentRules.uncopiedAnnotations.contains(key) && replicaSet.metadata.annotations[key] != value {
            replicaSet.metadata.annotations[key] = value
            changed = true
        }
        let oldRevision = replicaSet.metadata.annotations[DeploymentRules.revisionAnnotation]
        let oldValue = oldRevision.map { Int64($0) } ?? 0
        guard let oldValue, let newValue = Int64(revision) else { return changed }
        if oldValue < newValue {
            replicaSet.metadata.annotations[DeploymentRules.revisionAnnotation] = revision
            changed = true
            if let oldRevision, !oldRevision.isEmpty {
                let history = replicaSet.metadata.annotations[DeploymentRules.revisionHistoryAnnotation] ?? ""
                replicaSet.metadata.annotations[DeploymentRules.revisionHistoryAnnotation] =
                    history.isEmpty ? oldRevision : "\(history),\(oldRevision)"
            }
        }
        if !exists, setSizeAnnotations(&replicaSet, deployment) { changed = true }
        return changed
    }

    /// Records `spec.replicas` and `spec.replicas + maxSurge` on the ReplicaSet; whether they changed.
    @discardableResult
    static func setSizeAnnotations(_ replicaSet: inout ReplicaSet, _ deployment: Deployment) -> Bool {
        let desired = String(DeploymentRules.replicas(deployment))
        let maximum = String(DeploymentRules.replicas(deployment) + DeploymentRules.maxSurge(deployment))
        var changed = false
        if replicaSet.metadata.annotations[DeploymentRules.desiredReplicasAnnotation] != desired {
            replicaSet.metadata.annotations[DeploymentRules.desiredReplicasAnnotation] = desired
            changed = true
        }
        if replicaSet.metadata.annotations[DeploymentRules.maxReplicasAnnotation] != maximum {
            replicaSet.metadata.annotations[DeploymentRules.maxReplicasAnnotation] = maximum
            changed = true
        }
        return changed
    }

    /// Sets the Deployment's revision annotation (written with its status); whether it changed.
    private func setRevision(_ deployment: inout Deployment, _ revision: String?) -> Bool {
        guard let revision, deployment.metadata.annotations[DeploymentRules.revisionAnnotation] != revision else {
            return false
        }
        deployment.metadata.annotations[DeploymentRules.revisionAnnotation] = revision
        return true
    }

    /// Sizes `replicaSet` to `replicas` (and refreshes its size annotations), with upstream's
    /// `ScalingReplicaSet` event; whether the size changed, and the ReplicaSet as stored.
    @discardableResult
    func scale(_ replicaSet: ReplicaSet, to replicas: Int, _ deployment: Deployment) async throws
        -> (scaled: Bool, replicaSet: ReplicaSet)
    {
        let current = Int(replicaSet.spec.replicas ?? 0)
        var copy = replicaSet
        let annotationsChanged = Self.setSizeAnnotations(&copy, deployment)
        guard current != replicas || annotationsChanged else { return (false, replicaSet) }
        copy.spec.replicas = Int32(replicas)
        let stored = try await update(copy, from: replicaSet, deployment)
        guard current != replicas else { return (false, stored) }
        let direction = current < replicas ? "up" : "down"
        record(
            deployment, .normal, "ScalingReplicaSet",
            "Scaled \(direction) replica set \(stored.metadata.name ?? "") from \(current) to \(replicas)")
        return (true, stored)
    }

    /// Deletes the oldest idle ReplicaSets beyond `revisionHistoryLimit`.
    func cleanUp(_ deployment: Deployment, old: [ReplicaSet]) async throws {
        guard let limit = deployment.spec.revisionHistoryLimit else { return }
        let alive = old.filter { !$0.metadata.isDeleting }
        let excess = alive.count - Int(limit)
        guard excess > 0 else { return }
        let byRevision = alive.sorted {
            let (a, b) = (DeploymentRules.revision($0), DeploymentRules.revision($1))
            return a == b ? DeploymentRules.olderFirst($0, $1) : a < b
        }
        for replicaSet in byRevision.prefix(excess) {
            // Only a ReplicaSet that has settled at zero pods may go.
            guard replicaSet.status.replicas ?? 0 == 0, replicaSet.spec.replicas ?? 0 == 0,
                replicaSet.metadata.generation ?? 0 <= replicaSet.status.observedGeneration ?? 0
            else { continue }
            do {
                try await replicaSetClient(deployment).delete(replicaSet.metadata.name ?? "")
            } catch let error as StatusError where error.code == 404 {
                continue
            }
        }
    }

    /// Writes `changed`, a change this controller made to `base`. On a conflict (mostly the replica set
    /// controller's status writes, newer than the cache) the change is made again on the latest object as
    /// long as what it was decided from (spec and size annotations) is unchanged; otherwise the next sync
    /// decides afresh.
    private func update(_ changed: ReplicaSet, from base: ReplicaSet, _ deployment: Deployment) async throws
        -> ReplicaSet
    {
        let client = replicaSetClient(deployment)
        do {
            return try await client.update(changed)
        } catch let error as StatusError where error.code == 409 {
            var fresh = try await client.get(changed.metadata.name ?? "")
            guard fresh.metadata.uid == base.metadata.uid, fresh.metadata.generation == base.metadata.generation,
                fresh.metadata.annotations == base.metadata.annotations
            else { throw error }
            fresh.metadata.annotations = changed.metadata.annotations
            fresh.spec = changed.spec
            return try await client.update(fresh)
        }
    }

    func replicaSetClient(_ deployment: Deployment) -> ResourceClient<ReplicaSet> {
        ResourceClient(client: context.client, namespace: deployment.metadata.namespace)
    }

    func record(_ deployment: Deployment, _ type: EventType, _ reason: String, _ note: String) {
        context.recorder.eventf(
            regarding: ObjectReference(to: deployment), type: type, reason: reason, action: "Sync", note: note)
    }
}

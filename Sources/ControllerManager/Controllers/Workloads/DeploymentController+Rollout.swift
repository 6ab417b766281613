import APIMachinery
import Client

extension DeploymentController {
    /// RollingUpdate: grow the new ReplicaSet within maxSurge, then shrink old ones within maxUnavailable.
    func rolloutRolling(_ deployment: inout Deployment, _ owned: [ReplicaSet]) async throws {
        let (created, old) = try await newAndOldReplicaSets(&deployment, owned, create: true)
        guard var new = created else { return }
        var all = old + [new]
        let desired = DeploymentRules.replicas(deployment)
        let current = Int(new.spec.replicas ?? 0)
        if current != desired {
            let target =
                current > desired ? desired : DeploymentRules.newReplicaSetReplicas(deployment, all: all, new: new)
            let (scaled, stored) = try await scale(new, to: target, deployment)
            new = stored
            if scaled {
                try await syncRolloutStatus(&deployment, old + [new], new)
                return
            }
        }
        all = old + [new]
        if try await reconcileOldReplicaSets(
            deployment, all: all, old: old.filter { $0.spec.replicas ?? 0 > 0 }, new: new)
        {
            try await syncRolloutStatus(&deployment, all, new)
            return
        }
        if DeploymentRules.isComplete(deployment, deployment.status) { try await cleanUp(deployment, old: old) }
        try await syncRolloutStatus(&deployment, all, new)
    }

    /// Upstream's `reconcileOldReplicaSets`: first drop old pods that are not available anyway, then scale
    /// old ReplicaSets down as far as maxUnavailable allows; whether anything was scaled.
    private func reconcileOldReplicaSets(
        _ deployment: Deployment, all: [ReplicaSet], old: [ReplicaSet], new: ReplicaSet
    ) async throws -> Bool {
        let oldCount = old.reduce(0) { $0 + Int($1.spec.replicas ?? 0) }
        guard oldCount > 0 else { return false }
        let allCount = all.reduce(0) { $0 + Int($1.spec.replicas ?? 0) }
        let minAvailable = DeploymentRules.replicas(deployment) - DeploymentRules.maxUnavailable(deployment)
        let newUnavailable = Int(new.spec.replicas ?? 0) - Int(new.status.availableReplicas ?? 0)
        let maxScaledDown = allCount - minAvailable - newUnavailable
        guard maxScaledDown > 0 else { return false }

        // Unhealthy replicas first: scaling them away costs no availability.
        var remainingOld = old.sorted(by: DeploymentRules.olderFirst)
        var cleaned = 0
        for index in remainingOld.indices {
            guard cleaned < maxScaledDown else { break }
            let replicaSet = remainingOld[index]
            let replicas = Int(replicaSet.spec.replicas ?? 0)
            let available = Int(replicaSet.status.availableReplicas ?? 0)
            // A status counting more available pods than the spec asks for is stale (a scale-down not yet
            // seen); upstream refuses that pass, here it is skipped.
            guard replicas > 0, replicas > available else { continue }
            let count = min(maxScaledDown - cleaned, replicas - available)
            remainingOld[index] = try await scale(replicaSet, to: replicas - count, deployment).replicaSet
            cleaned += count
        }

        // Then available ones, oldest first, keeping minAvailable.
        let everything = remainingOld + [new]
        let available = everything.reduce(0) { $0 + Int($1.status.availableReplicas ?? 0) }
        var scaledDown = 0
        if available > minAvailable {
            let total = available - minAvailable
            for replicaSet in remainingOld {
                guard scaledDown < total else { break }
                let replicas = Int(replicaSet.spec.replicas ?? 0)
                guard replicas > 0 else { continue }
                let count = min(replicas, total - scaledDown)
                try await scale(replicaSet, to: replicas - count, deployment)
                scaledDown += count
            }
        }
        return cleaned + scaledDown > 0
    }

    /// Recreate: every old pod goes, and only once none runs does the new ReplicaSet come up.
    func rolloutRecreate(_ deployment: inout Deployment, _ owned: [ReplicaSet]) async throws {
        var (new, old) = try await newAndOldReplicaSets(&deployment, owned, create: false)
        var scaledDown = false
        for (index, replicaSet) in old.enumerated() where replicaSet.spec.replicas ?? 0 > 0 {
            let (scaled, stored) = try await scale(replicaSet, to: 0, deployment)
            old[index] = stored
            scaledDown = scaledDown || scaled
        }
        if scaledDown || oldPodsRunning(deployment, new: new, old: old, owned: owned) {
            try await syncRolloutStatus(&deployment, old + [new].compactMap { $0 }, new)
            return
        }
        if new == nil { (new, old) = try await newAndOldReplicaSets(&deployment, owned, create: true) }
        if let current = new {
            new = try await scale(current, to: DeploymentRules.replicas(deployment), deployment).replicaSet
        }
        if DeploymentRules.isComplete(deployment, deployment.status) { try await cleanUp(deployment, old: old) }
        try await syncRolloutStatus(&deployment, old + [new].compactMap { $0 }, new)
    }

    /// Old ReplicaSets still report pods, or a pod of one is not finished.
    private func oldPodsRunning(_ deployment: Deployment, new: ReplicaSet?, old: [ReplicaSet], owned: [ReplicaSet])
        -> Bool
    {
        if old.contains(where: { $0.status.replicas ?? 0 > 0 }) { return true }
        for (uid, pods) in podsByReplicaSet(deployment, owned) where uid != new?.metadata.uid {
            if pods.contains(where: { $0.status.phase != "Failed" && $0.status.phase != "Succeeded" }) { return true }
        }
        return false
    }

    /// A paused Deployment or a change of `spec.replicas`: resize without rolling, as upstream's `sync`.
    func syncScaleOnly(_ deployment: inout Deployment, _ owned: [ReplicaSet]) async throws {
        let (new, old) = try await newAndOldReplicaSets(&deployment, owned, create: false)
        let stored = try await scaleProportionally(deployment, new: new, old: old)
        let currentNew = new.map { stored[$0.metadata.uid ?? ""] ?? $0 }
        let currentOld = old.map { stored[$0.metadata.uid ?? ""] ?? $0 }
        if deployment.spec.paused == true, Self.rollbackRevision(deployment) == nil {
            try await cleanUp(deployment, old: currentOld)
        }
        try await syncStatus(&deployment, currentOld + [currentNew].compactMap { $0 }, currentNew)
    }

    /// Upstream's `scale`: one active ReplicaSet takes the new size; otherwise the difference is spread over
    /// the active ones in proportion to their size, largest first.
    /// Returns the ReplicaSets it wrote, by UID.
    private func scaleProportionally(_ deployment: Deployment, new: ReplicaSet?, old: [ReplicaSet]) async throws
        -> [String: ReplicaSet]
    {
        var stored: [String: ReplicaSet] = [:]
        func resize(_ replicaSet: ReplicaSet, _ size: Int) async throws {
            let result = try await scale(replicaSet, to: size, deployment).replicaSet
            stored[result.metadata.uid ?? ""] = result
        }
        let desired = DeploymentRules.replicas(deployment)
        let active = (old + [new].compactMap { $0 }).filter { $0.spec.replicas ?? 0 > 0 }
        if active.count <= 1 {
            let target = active.first ?? new ?? old.sorted(by: DeploymentRules.olderFirst).last
            if let target, Int(target.spec.replicas ?? 0) != desired { try await resize(target, desired) }
            return stored
        }
        if DeploymentRules.isSaturated(deployment, new) {
            for replicaSet in old where replicaSet.spec.replicas ?? 0 > 0 { try await resize(replicaSet, 0) }
            return stored
        }
        guard DeploymentRules.isRollingUpdate(deployment) else { return stored }
        let current = active.reduce(0) { $0 + Int($1.spec.replicas ?? 0) }
        let allowed = desired > 0 ? desired + DeploymentRules.maxSurge(deployment) : 0
        let toAdd = allowed - current
        guard toAdd != 0 else { return stored }
        // Growing favours newer ReplicaSets among equals, shrinking older ones.
        let ordered = active.sorted {
            let (a, b) = ($0.spec.replicas ?? 0, $1.spec.replicas ?? 0)
            if a != b { return a > b }
            return toAdd > 0 ? DeploymentRules.olderFirst($1, $0) : DeploymentRules.olderFirst($0, $1)
        }
        var sizes: [Int] = []
        var added = 0
        for replicaSet in ordered {
            let share = DeploymentRules.proportion(replicaSet, deployment, toAdd: toAdd, added: added)
            sizes.append(Int(replicaSet.spec.replicas ?? 0) + share)
            added += share
        }
        // The rounding remainder goes to the largest.
        sizes[0] = max(0, sizes[0] + toAdd - added)
        for (replicaSet, size) in zip(ordered, sizes) { try await resize(replicaSet, size) }
        return stored
    }

    /// The revision a rollback asks for: the deprecated annotation apps/v1 keeps for `spec.rollbackTo`, or
    /// `spec.rollbackTo.revision` itself when an older client sent it; 0 means the previous revision.
    static func rollbackRevision(_ deployment: Deployment) -> Int64? {
        if let text = deployment.metadata.annotations[DeploymentRules.rollbackToAnnotation] { return Int64(text) }
        return deployment.spec.unknownFields["rollbackTo"].map { $0["revision"]?.intValue ?? 0 }
    }

    /// Copies the template of the requested revision's ReplicaSet into the Deployment and clears the request.
    func rollback(_ deployment: inout Deployment, _ owned: [ReplicaSet]) async throws {
        let (new, old) = try await newAndOldReplicaSets(&deployment, owned, create: true)
        let all = old + [new].compactMap { $0 }
        var revision = Self.rollbackRevision(deployment) ?? 0
        if revision == 0 {
            revision = DeploymentRules.lastRevision(all)
            if revision == 0 {
                record(deployment, .warning, "DeploymentRollbackRevisionNotFound", "Unable to find last revision.")
                try await clearRollback(deployment)
                return
            }
        }
        guard let target = all.first(where: { DeploymentRules.revision($0) == revision }) else {
            record(
                deployment, .warning, "DeploymentRollbackRevisionNotFound",
                "Unable to find the revision to rollback to.")
            try await clearRollback(deployment)
            return
        }
        var updated = deployment
        if DeploymentRules.equalIgnoringHash(deployment.spec.template, target.spec.template) {
            record(
                deployment, .warning, "DeploymentRollbackTemplateUnchanged",
                "The rollback revision contains the same template as current deployment \"\(deployment.metadata.name ?? "")\""
            )
            try await clearRollback(updated)
            return
        }
        var template = target.spec.template ?? PodTemplateSpec()
        var metadata = template.metadata ?? ObjectMeta()
        metadata.labels[PodTemplateHash.labelKey] = nil
        template.metadata = metadata
        updated.spec.template = template
        for (key, value) in target.metadata.annotations where !DeploymentRules.uncopiedAnnotations.contains(key) {
            updated.metadata.annotations[key] = value
        }
        try await clearRollback(updated)
        record(
            deployment, .normal, "DeploymentRollback",
            "Rolled back deployment \"\(deployment.metadata.name ?? "")\" to revision \(revision)")
    }

    private func clearRollback(_ deployment: Deployment) async throws {
        var updated = deployment
        updated.metadata.annotations[DeploymentRules.rollbackToAnnotation] = nil
        updated.spec.unknownFields.entries.removeAll { $0.key == "rollbackTo" }
        _ = try await ResourceClient<Deployment>(client: context.client, namespace: deployment.metadata.namespace)
            .update(updated)
    }
}

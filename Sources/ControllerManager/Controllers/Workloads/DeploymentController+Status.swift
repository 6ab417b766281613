import APIMachinery
import Client

/// The condition types a Deployment carries.
enum DeploymentConditionType: String {
    case progressing = "Progressing"
    case available = "Available"
    case replicaFailure = "ReplicaFailure"
}

extension DeploymentController {
    /// Status only, for a Deployment being deleted.
    func syncStatusOnly(_ deployment: inout Deployment, _ owned: [ReplicaSet]) async throws {
        let (new, old) = try await newAndOldReplicaSets(&deployment, owned, create: false)
        try await syncStatus(&deployment, old + [new].compactMap { $0 }, new)
    }

    /// Writes the counts and Available condition `replicaSets` give, if they changed.
    func syncStatus(_ deployment: inout Deployment, _ replicaSets: [ReplicaSet], _ new: ReplicaSet?) async throws {
        let status = calculateStatus(deployment, replicaSets, new)
        guard status != deployment.status else { return }
        deployment.status = status
        deployment = try await writeStatus(deployment)
    }

    /// Upstream's `syncRolloutStatus`: counts, Available, and Progressing moved to complete, progressing or
    /// timed out; a ReplicaSet's `ReplicaFailure` copied up. An unchanged status is not written, but a
    /// deadline still running is looked at again when it would pass.
    func syncRolloutStatus(_ deployment: inout Deployment, _ replicaSets: [ReplicaSet], _ new: ReplicaSet?) async throws
    {
        var status = calculateStatus(deployment, replicaSets, new)
        let hasDeadline = DeploymentRules.hasProgressDeadline(deployment)
        if !hasDeadline { removeCondition(&status, .progressing) }
        let current = condition(deployment.status, .progressing)
        let complete = status.replicas == status.updatedReplicas && current?.reason == "NewReplicaSetAvailable"
        if hasDeadline, !complete {
            let name = new?.metadata.name
            if DeploymentRules.isComplete(deployment, status) {
                setCondition(
                    &status, .progressing, "True", reason: "NewReplicaSetAvailable",
                    message: name.map { "ReplicaSet \"\($0)\" has successfully progressed." }
                        ?? "Deployment has successfully progressed.")
            } else if DeploymentRules.isProgressing(deployment, status) {
                // A progressing rollout renews lastUpdateTime, which the deadline counts from.
                let transition = current?.status == "True" ? current?.lastTransitionTime : nil
                removeCondition(&status, .progressing)
                setCondition(
                    &status, .progressing, "True", reason: "ReplicaSetUpdated",
                    message: name.map { "ReplicaSet \"\($0)\" is progressing." } ?? "Deployment is progressing.")
                if let transition, let index = status.conditions.firstIndex(where: { $0.type == "Progressing" }) {
                    status.conditions[index].lastTransitionTime = transition
                }
            } else if timedOut(deployment, status) {
                setCondition(
                    &status, .progressing, "False", reason: "ProgressDeadlineExceeded",
                    message: name.map { "ReplicaSet \"\($0)\" has timed out progressing." }
                        ?? "Deployment \"\(deployment.metadata.name ?? "")\" has timed out progressing.")
            }
        }
        let failures = ([new].compactMap { $0 } + replicaSets.filter { $0.metadata.uid != new?.metadata.uid })
            .lazy.compactMap { $0.status.conditions.first { $0.type == ReplicaFailure.type } }.first
        if let failure = failures {
            removeCondition(&status, .replicaFailure)
            status.conditions.append(
                DeploymentCondition(
                    type: ReplicaFailure.type, status: failure.status, lastTransitionTime: failure.lastTransitionTime,
                    lastUpdateTime: failure.lastTransitionTime, message: failure.message, reason: failure.reason))
        } else {
            removeCondition(&status, .replicaFailure)
        }
        guard status != deployment.status else {
            requeueIfStuck(deployment, status)
            return
        }
        deployment.status = status
        deployment = try await writeStatus(deployment)
    }

    /// Counts over every ReplicaSet, `updatedReplicas` from the new one, and the Available condition.
    func calculateStatus(_ deployment: Deployment, _ replicaSets: [ReplicaSet], _ new: ReplicaSet?)
        -> DeploymentStatus
    {
        func sum(_ value: (ReplicaSet) -> Int32?) -> Int32 { replicaSets.reduce(0) { $0 + (value($1) ?? 0) } }
        let available = sum(\.status.availableReplicas)
        let total = sum(\.spec.replicas)
        var status = deployment.status
        status.observedGeneration = deployment.metadata.generation
        status.replicas = sum(\.status.replicas)
        status.updatedReplicas = new?.status.replicas ?? 0
        status.readyReplicas = sum(\.status.readyReplicas)
        status.availableReplicas = available
        status.unavailableReplicas = max(0, total - available)
        let minimum = DeploymentRules.replicas(deployment) - DeploymentRules.maxUnavailable(deployment)
        if Int(available) >= minimum {
            setCondition(
                &status, .available, "True", reason: "MinimumReplicasAvailable",
                message: "Deployment has minimum availability.")
        } else {
            setCondition(
                &status, .available, "False", reason: "MinimumReplicasUnavailable",
                message: "Deployment does not have minimum availability.")
        }
        return status
    }

    /// Progressing's `DeploymentPaused`/`DeploymentResumed` reasons follow `spec.paused`.
    func checkPausedConditions(_ deployment: inout Deployment) async throws {
        guard DeploymentRules.hasProgressDeadline(deployment) else { return }
        let current = condition(deployment.status, .progressing)
        if current?.reason == "ProgressDeadlineExceeded" { return }
        let pausedShown = current?.reason == "DeploymentPaused"
        if deployment.spec.paused == true, !pausedShown {
            setCondition(
                &deployment.status, .progressing, "Unknown", reason: "DeploymentPaused",
                message: "Deployment is paused")
        } else if deployment.spec.paused != true, pausedShown {
            setCondition(
                &deployment.status, .progressing, "Unknown", reason: "DeploymentResumed",
                message: "Deployment is resumed")
        } else {
            return
        }
        deployment = try await writeStatus(deployment)
    }

    /// The Progressing condition's last update is older than the deadline allows.
    private func timedOut(_ deployment: Deployment, _ status: DeploymentStatus) -> Bool {
        guard DeploymentRules.hasProgressDeadline(deployment), let current = condition(status, .progressing) else {
            return false
        }
        if current.reason == "NewReplicaSetAvailable" { return false }
        if current.reason == "ProgressDeadlineExceeded" { return true }
        guard let updated = current.lastUpdateTime.flatMap(Timestamp.parse) else { return false }
        return updated + Int64(deployment.spec.progressDeadlineSeconds ?? 0) < now
    }

    /// Syncs the Deployment again just after its progress deadline would pass, as `requeueStuckDeployment`.
    private func requeueIfStuck(_ deployment: Deployment, _ status: DeploymentStatus) {
        guard DeploymentRules.hasProgressDeadline(deployment), let current = condition(status, .progressing),
            !DeploymentRules.isComplete(deployment, status), current.reason != "ProgressDeadlineExceeded",
            let updated = current.lastUpdateTime.flatMap(Timestamp.parse)
        else { return }
        let remaining = updated + Int64(deployment.spec.progressDeadlineSeconds ?? 0) - now
        if remaining < 1 {
            queue.addRateLimited(deployment.key)
        } else {
            queue.add(deployment.key, after: .seconds(remaining + 1))
        }
    }

    /// Wall-clock seconds since the epoch, from the controller's clock.
    var now: Int64 { Int64(context.time.wallNow.timeIntervalSince1970) }

    func condition(_ status: DeploymentStatus, _ type: DeploymentConditionType) -> DeploymentCondition? {
        status.conditions.first { $0.type == type.rawValue }
    }

    /// Upstream's `SetDeploymentCondition`: an unchanged status and reason keeps the condition as it is; an
    /// unchanged status keeps its lastTransitionTime.
    func setCondition(
        _ status: inout DeploymentStatus, _ type: DeploymentConditionType, _ value: String, reason: String,
        message: String
    ) {
        let current = condition(status, type)
        if let current, current.status == value, current.reason == reason { return }
        let timestamp = Timestamp.format(epochSeconds: now)
        let transition = current?.status == value ? current?.lastTransitionTime ?? timestamp : timestamp
        removeCondition(&status, type)
        status.conditions.append(
            DeploymentCondition(
                type: type.rawValue, status: value, lastTransitionTime: transition, lastUpdateTime: timestamp,
                message: message, reason: reason))
    }

    func removeCondition(_ status: inout DeploymentStatus, _ type: DeploymentConditionType) {
        status.conditions.removeAll { $0.type == type.rawValue }
    }

    /// Writes status (and the revision annotation) through the status subresource; the stored Deployment.
    ///
    /// A conflict is usually this controller's own previous write that the cache has not shown yet. The status
    /// is computed from the ReplicaSets, not from this copy, so it applies as well to the latest object while
    /// its spec (generation) is the same; a changed spec is synced afresh instead.
    func writeStatus(_ deployment: Deployment) async throws -> Deployment {
        let client = ResourceClient<Deployment>(client: context.client, namespace: deployment.metadata.namespace)
        do {
            return try await client.updateStatus(deployment)
        } catch let error as StatusError where error.code == 409 {
            var fresh = try await client.get(deployment.metadata.name ?? "")
            guard fresh.metadata.generation == deployment.metadata.generation else { throw error }
            fresh.status = deployment.status
            fresh.metadata.annotations[DeploymentRules.revisionAnnotation] =
                deployment.metadata.annotations[DeploymentRules.revisionAnnotation]
            return try await client.updateStatus(fresh)
        }
    }
}

import APIMachinery
import Client
import Component
import Logging

/// Upstream's deployment controller: rolls a Deployment's pod template out through ReplicaSets named
/// `<deployment>-<pod-template-hash>`, by RollingUpdate within maxSurge/maxUnavailable or by Recreate,
/// keeps revision history, rolls back, and reports progress in status and conditions.
public final class DeploymentController: Controller {
    public static let descriptor = ControllerDescriptor(
        name: "deployment-controller", aliases: ["deployment"], serviceAccount: "deployment-controller",
        flags: [FlagDefinition("concurrent-deployment-syncs", default: "5")],
        workersFlag: "concurrent-deployment-syncs"
    ) { context in DeploymentController(context: context) }

    let context: ControllerContext
    let queue: RateLimitingQueue<ObjectKey>
    let deployments: Lister<Deployment>
    let replicaSets: Lister<ReplicaSet>
    let pods: Lister<Pod>

    public init(context: ControllerContext) {
        self.context = context
        queue = RateLimitingQueue(name: "deployment", time: context.time)
        let deploymentInformer = context.informers.informer(for: Deployment.self)
        let replicaSetInformer = context.informers.informer(for: ReplicaSet.self)
        let podInformer = context.informers.informer(for: Pod.self)
        deployments = deploymentInformer.lister
        replicaSets = replicaSetInformer.lister
        pods = podInformer.lister
        deploymentInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] deployment, _ in queue.add(deployment.key) },
                onUpdate: { [self] _, deployment in queue.add(deployment.key) },
                onDelete: { [self] event in queue.add(event.key) }))
        replicaSetInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] replicaSet, _ in replicaSetAdded(replicaSet) },
                onUpdate: { [self] old, new in replicaSetUpdated(old: old, new: new) },
                onDelete: { [self] event in
                    if let owner = owner(of: event.object) { queue.add(owner.key) }
                }))
        podInformer.addEventHandler(ResourceEventHandler(onDelete: { [self] event in podDeleted(event.object) }))
    }

    public func run(workers: Int) async {
        await queue.runWorkers(workers, logger: context.logger) { key in try await self.sync(key) }
    }

    // MARK: Events

    private func replicaSetAdded(_ replicaSet: ReplicaSet) {
        if replicaSet.metadata.controllerRef != nil {
            if let owner = owner(of: replicaSet) { queue.add(owner.key) }
            return
        }
        for deployment in matchingDeployments(replicaSet) { queue.add(deployment.key) }
    }

    private func replicaSetUpdated(old: ReplicaSet, new: ReplicaSet) {
        guard old.metadata.resourceVersion != new.metadata.resourceVersion else { return }
        let referenceChanged = old.metadata.controllerRef != new.metadata.controllerRef
        if referenceChanged, let previous = owner(of: old) { queue.add(previous.key) }
        if new.metadata.controllerRef != nil {
            if let owner = owner(of: new) { queue.add(owner.key) }
            return
        }
        if referenceChanged || old.metadata.labels != new.metadata.labels {
            for deployment in matchingDeployments(new) { queue.add(deployment.key) }
        }
    }

    /// A Recreate rollout waits for the old pods to be gone; the last one going lets it go on.
    private func podDeleted(_ pod: Pod) {
        guard let reference = pod.metadata.controllerRef, reference.kind == ReplicaSet.resource.kind,
            let replicaSet = replicaSets.get(namespace: pod.metadata.namespace ?? "", name: reference.name ?? ""),
            replicaSet.metadata.uid == reference.uid, let deployment = owner(of: replicaSet),
            deployment.spec.strategy?.type == "Recreate"
        else { return }
        let owned = ownedReplicaSets(deployment)
        if podsByReplicaSet(deployment, owned).values.allSatisfy(\.isEmpty) { queue.add(deployment.key) }
    }

    /// The Deployment a ReplicaSet's controller reference names, if it still exists with that UID.
    func owner(of replicaSet: ReplicaSet) -> Deployment? {
        guard let reference = replicaSet.metadata.controllerRef, reference.kind == Deployment.resource.kind,
            let deployment = deployments.get(
                namespace: replicaSet.metadata.namespace ?? "", name: reference.name ?? ""),
            deployment.metadata.uid == reference.uid
        else { return nil }
        return deployment
    }

    private func matchingDeployments(_ replicaSet: ReplicaSet) -> [Deployment] {
        guard !replicaSet.metadata.labels.isEmpty else { return [] }
        return deployments.list(namespace: replicaSet.metadata.namespace ?? "").filter {
            guard let selector = try? $0.spec.selector?.labelSelector(), !selector.isEverything else { return false }
            return selector.matches(replicaSet.metadata.labels)
        }
    }

    /// The cached ReplicaSets whose controller reference is `deployment`.
    func ownedReplicaSets(_ deployment: Deployment) -> [ReplicaSet] {
        replicaSets.list(namespace: deployment.metadata.namespace ?? "").filter {
            $0.metadata.controllerRef?.uid == deployment.metadata.uid
        }
    }

    /// Pods matching the Deployment's selector, grouped by the ReplicaSet among `owned` that controls them.
    func podsByReplicaSet(_ deployment: Deployment, _ owned: [ReplicaSet]) -> [String: [Pod]] {
        var map: [String: [Pod]] = [:]
        for replicaSet in owned { map[replicaSet.metadata.uid ?? ""] = [] }
        guard let selector = try? deployment.spec.selector?.labelSelector() else { return map }
        for pod in pods.list(namespace: deployment.metadata.namespace ?? "", selector: selector) {
            guard let uid = pod.metadata.controllerRef?.uid, map[uid] != nil else { continue }
            map[uid, default: []].append(pod)
        }
        return map
    }

    // MARK: Sync

    /// One level-triggered pass over a Deployment, in upstream's order: status only while deleting, paused
    /// conditions, a paused Deployment only scales, a rollback, a scaling event, else the strategy's rollout.
    func sync(_ key: ObjectKey) async throws {
        guard var deployment = deployments.get(namespace: key.namespace, name: key.name) else { return }
        guard let selectorModel = deployment.spec.selector, let selector = try? selectorModel.labelSelector() else {
            context.logger.error("deployment \(key) has an invalid selector")
            return
        }
        if selector.isEverything {
            context.recorder.eventf(
                regarding: ObjectReference(to: deployment), type: .warning, reason: "SelectingAll", action: "Sync",
                note: "This deployment is selecting all pods. A non-empty selector is required.")
            if deployment.status.observedGeneration ?? 0 < deployment.metadata.generation ?? 0 {
                deployment.status.observedGeneration = deployment.metadata.generation
                _ = try await writeStatus(deployment)
            }
            return
        }
        let owned = try await claimReplicaSets(deployment, selector: selector)
        if deployment.metadata.isDeleting {
            try await syncStatusOnly(&deployment, owned)
            return
        }
        try await checkPausedConditions(&deployment)
        if deployment.spec.paused == true {
            try await syncScaleOnly(&deployment, owned)
            return
        }
        if Self.rollbackRevision(deployment) != nil {
            try await rollback(&deployment, owned)
            return
        }
        if isScalingEvent(deployment, owned) {
            try await syncScaleOnly(&deployment, owned)
            return
        }
        if deployment.spec.strategy?.type == "Recreate" {
            try await rolloutRecreate(&deployment, owned)
        } else {
            try await rolloutRolling(&deployment, owned)
        }
    }

    /// The ReplicaSets this Deployment owns after adopting matching orphans and releasing those that stopped
    /// matching; adoption first re-reads the Deployment, so a deleted or replaced one adopts nothing.
    private func claimReplicaSets(_ deployment: Deployment, selector: LabelSelector) async throws -> [ReplicaSet] {
        let client = context.client
        let candidates = replicaSets.list(namespace: deployment.metadata.namespace ?? "")
        return try await ControllerRefManager<ReplicaSet>(client: client).claim(
            candidates, owner: deployment, selector: selector,
            canAdopt: {
                let fresh = try await ResourceClient<Deployment>(
                    client: client, namespace: deployment.metadata.namespace
                ).get(deployment.metadata.name ?? "")
                return fresh.metadata.uid == deployment.metadata.uid && !fresh.metadata.isDeleting
            })
    }

    /// A change of `spec.replicas` alone: some active ReplicaSet was annotated for another size.
    private func isScalingEvent(_ deployment: Deployment, _ owned: [ReplicaSet]) -> Bool {
        let (new, old) = Self.splitReplicaSets(deployment, owned)
        let desired = deployment.spec.replicas ?? 1
        for replicaSet in (old + [new].compactMap { $0 }) where replicaSet.spec.replicas ?? 0 > 0 {
            guard
                let annotated = replicaSet.metadata.annotations[DeploymentRules.desiredReplicasAnnotation]
                    .flatMap({ Int32($0) })
            else { continue }
            if annotated != desired { return true }
        }
        return false
    }

    /// The oldest ReplicaSet whose template is the Deployment's (the new one) and every other one.
    static func splitReplicaSets(_ deployment: Deployment, _ owned: [ReplicaSet]) -> (ReplicaSet?, [ReplicaSet]) {
        let sorted = owned.sorted(by: DeploymentRules.olderFirst)
        let new = sorted.first { DeploymentRules.equalIgnoringHash($0.spec.template, deployment.spec.template) }
        return (new, sorted.filter { $0.metadata.uid != new?.metadata.uid })
    }
}

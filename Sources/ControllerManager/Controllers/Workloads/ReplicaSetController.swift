import APIMachinery
public import Client
import Component
import Logging

/// The replica set controller.
public typealias ReplicaSetController = ReplicaManager<ReplicaSet>
/// The replication controller controller, upstream's `ReplicationManager`.
public typealias ReplicationManager = ReplicaManager<ReplicationController>

/// Upstream's replica set controller, generic over the kind so it also serves ReplicationControllers (upstream's
/// replication manager): keeps `spec.replicas` active pods matching the selector, adopting orphans and
/// releasing pods that stopped matching, and reports what it sees in status.
public final class ReplicaManager<Owner: ReplicatedPodOwner>: Controller {
    /// Upstream's `BurstReplicas`: at most this many creations or deletions per sync.
    public static var burstReplicas: Int { 500 }
    /// Upstream's `SlowStartInitialBatchSize`: the first batch of creations, doubled while they succeed.
    public static var slowStartInitialBatchSize: Int { 1 }

    let context: ControllerContext
    let queue: RateLimitingQueue<ObjectKey>
    let expectations: ControllerExpectations
    let owners: Lister<Owner>
    let pods: Lister<Pod>
    let podControl: PodControl

    public init(context: ControllerContext) {
        self.context = context
        queue = RateLimitingQueue(name: Owner.queueName, time: context.time)
        expectations = ControllerExpectations(time: context.time)
        let ownerInformer = context.informers.informer(for: Owner.self)
        let podInformer = context.informers.informer(for: Pod.self)
        owners = ownerInformer.lister
        pods = podInformer.lister
        podControl = PodControl(client: context.client, recorder: context.recorder)
        ownerInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] owner, _ in queue.add(owner.key) },
                onUpdate: { [self] _, owner in queue.add(owner.key) },
                onDelete: { [self] event in
                    expectations.delete(event.key)
                    queue.add(event.key)
                }))
        podInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] pod, _ in podAdded(pod) },
                onUpdate: { [self] old, new in podUpdated(old: old, new: new) },
                onDelete: { [self] event in podDeleted(event.object) }))
    }

    public func run(workers: Int) async {
        await queue.runWorkers(workers, logger: context.logger) { key in try await self.sync(key) }
    }

    // MARK: Pod events

    private func podAdded(_ pod: Pod) {
        if pod.metadata.isDeleting {
            // A pod restarted with the controller already being deleted counts as a deletion, as upstream.
            podDeleted(pod)
            return
        }
        if let reference = pod.metadata.controllerRef {
            guard let owner = resolve(reference, namespace: pod.metadata.namespace) else { return }
            expectations.creationObserved(owner.key)
            queue.add(owner.key)
            return
        }
        // An orphan: every owner that would adopt it syncs.
        for owner in matchingOwners(pod) { queue.add(owner.key) }
    }

    private func podUpdated(old: Pod, new: Pod) {
        guard old.metadata.resourceVersion != new.metadata.resourceVersion else { return }
        let labelsChanged = old.metadata.labels != new.metadata.labels
        if new.metadata.isDeleting {
            // Graceful deletion: the pod stops counting now, not when it finally goes.
            podDeleted(new)
            if labelsChanged { podDeleted(old) }
            return
        }
        let oldReference = old.metadata.controllerRef
        let newReference = new.metadata.controllerRef
        let referenceChanged = oldReference != newReference
        if referenceChanged, let oldReference, let owner = resolve(oldReference, namespace: old.metadata.namespace) {
            queue.add(owner.key)
        }
        if let newReference {
            guard let owner = resolve(newReference, namespace: new.metadata.namespace) else { return }
            queue.add(owner.key)
            if !PodAvailability.isReady(old), PodAvailability.isReady(new), owner.minReadySeconds > 0 {
                // Available only minReadySeconds later: look again then.
                queue.add(owner.key, after: .seconds(owner.minReadySeconds + 1))
            }
            return
        }
        if labelsChanged || referenceChanged {
            for owner in matchingOwners(new) { queue.add(owner.key) }
        }
    }

    private func podDeleted(_ pod: Pod) {
        guard let reference = pod.metadata.controllerRef,
            let owner = resolve(reference, namespace: pod.metadata.namespace)
        else { return }
        expectations.deletionObserved(owner.key, uid: pod.metadata.uid ?? "")
        queue.add(owner.key)
    }

    /// The owner a controller reference names, if it is of this kind and still the same object.
    func resolve(_ reference: OwnerReference, namespace: String?) -> Owner? {
        guard reference.kind == Owner.resource.kind,
            let owner = owners.get(namespace: namespace ?? "", name: reference.name ?? ""),
            owner.metadata.uid == reference.uid
        else { return nil }
        return owner
    }

    /// The owners whose selector matches an orphan's labels.
    private func matchingOwners(_ pod: Pod) -> [Owner] {
        guard !pod.metadata.labels.isEmpty else { return [] }
        return owners.list(namespace: pod.metadata.namespace ?? "").filter {
            $0.podSelector?.matches(pod.metadata.labels) ?? false
        }
    }
}

extension ReplicaManager where Owner == ReplicaSet {
    /// `replicaset-controller`, upstream's name since v1.28.
    public static var descriptor: ControllerDescriptor {
        ControllerDescriptor(
            name: "replicaset-controller", aliases: ["replicaset"], serviceAccount: "replicaset-controller",
            flags: [FlagDefinition("concurrent-replicaset-syncs", default: "5")],
            workersFlag: "concurrent-replicaset-syncs"
        ) { context in ReplicaSetController(context: context) }
    }
}

extension ReplicaManager where Owner == ReplicationController {
    /// `replicationcontroller-controller`, upstream's name since v1.28.
    public static var descriptor: ControllerDescriptor {
        ControllerDescriptor(
            name: "replicationcontroller-controller", aliases: ["replicationcontroller"],
            serviceAccount: "replication-controller", flags: [FlagDefinition("concurrent-rc-syncs", default: "5")],
            workersFlag: "concurrent-rc-syncs"
        ) { context in ReplicationManager(context: context) }
    }
}

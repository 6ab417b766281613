import APIMachinery
import Client
import Component
import Logging

/// Upstream's stateful set controller: pods `<set>-<ordinal>` with stable identities and claims, created
/// and deleted in ordinal order (or in parallel), rolled to new revisions highest ordinal first down to the
/// partition, with ControllerRevisions recording each template and status that `kubectl rollout status`
/// reads.
public final class StatefulSetController: Controller {
    public static let descriptor = ControllerDescriptor(
        name: "statefulset-controller", aliases: ["statefulset"], serviceAccount: "statefulset-controller",
        flags: [FlagDefinition("concurrent-statefulset-syncs", default: "5")],
        workersFlag: "concurrent-statefulset-syncs"
    ) { context in StatefulSetController(context: context) }

    let context: ControllerContext
    let queue: RateLimitingQueue<ObjectKey>
    let sets: Lister<StatefulSet>
    let pods: Lister<Pod>
    let revisions: Lister<ControllerRevision>
    let claims: Lister<PersistentVolumeClaim>
    let history: ControllerHistory

    public init(context: ControllerContext) {
        self.context = context
        queue = RateLimitingQueue(name: "statefulset", time: context.time)
        let setInformer = context.informers.informer(for: StatefulSet.self)
        let podInformer = context.informers.informer(for: Pod.self)
        sets = setInformer.lister
        pods = podInformer.lister
        revisions = context.informers.lister(for: ControllerRevision.self)
        claims = context.informers.lister(for: PersistentVolumeClaim.self)
        history = ControllerHistory(client: context.client)
        setInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] set, _ in queue.add(set.key) },
                onUpdate: { [self] _, set in queue.add(set.key) },
                onDelete: { [self] event in queue.add(event.key) }))
        podInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] pod, _ in podChanged(pod) },
                onUpdate: { [self] old, new in
                    guard old.metadata.resourceVersion != new.metadata.resourceVersion else { return }
                    if old.metadata.controllerRef != new.metadata.controllerRef { podChanged(old) }
                    podChanged(new)
                    if let set = owner(of: new), !PodAvailability.isReady(old), PodAvailability.isReady(new),
                        let minReady = set.spec.minReadySeconds, minReady > 0
                    {
                        queue.add(set.key, after: .seconds(Int(minReady) + 1))
                    }
                },
                onDelete: { [self] event in podChanged(event.object) }))
    }

    public func run(workers: Int) async {
        await queue.runWorkers(workers, logger: context.logger) { key in try await self.sync(key) }
    }

    /// Syncs the set that controls `pod`, or for an orphan every set whose selector matches it.
    private func podChanged(_ pod: Pod) {
        if pod.metadata.controllerRef != nil {
            if let set = owner(of: pod) { queue.add(set.key) }
            return
        }
        guard !pod.metadata.labels.isEmpty else { return }
        for set in sets.list(namespace: pod.metadata.namespace ?? "")
        where (try? set.spec.selector?.labelSelector())?.matches(pod.metadata.labels) ?? false {
            queue.add(set.key)
        }
    }

    /// The set a pod's controller reference names, if it still exists with that UID.
    private func owner(of pod: Pod) -> StatefulSet? {
        guard let reference = pod.metadata.controllerRef, reference.kind == "StatefulSet",
            let set = sets.get(namespace: pod.metadata.namespace ?? "", name: reference.name ?? ""),
            set.metadata.uid == reference.uid
        else { return nil }
        return set
    }
}

import APIMachinery
import Client
import Component
import Logging

/// Upstream's daemon set controller: one pod per eligible node, pinned there through node affinity for the
/// scheduler to bind, replaced by a rolling update (or on deletion) when the template changes, with
/// ControllerRevisions for history and status counting scheduled, ready, available and updated pods.
public final class DaemonSetController: Controller {
    public static let descriptor = ControllerDescriptor(
        name: "daemonset-controller", aliases: ["daemonset"], serviceAccount: "daemon-set-controller",
        flags: [FlagDefinition("concurrent-daemonset-syncs", default: "2")],
        workersFlag: "concurrent-daemonset-syncs"
    ) { context in DaemonSetController(context: context) }

    let context: ControllerContext
    let queue: RateLimitingQueue<ObjectKey>
    let expectations: ControllerExpectations
    let sets: Lister<DaemonSet>
    let pods: Lister<Pod>
    let nodes: Lister<Node>
    let revisions: Lister<ControllerRevision>
    let history: ControllerHistory
    let podControl: PodControl

    public init(context: ControllerContext) {
        self.context = context
        queue = RateLimitingQueue(name: "daemonset", time: context.time)
        expectations = ControllerExpectations(time: context.time)
        let setInformer = context.informers.informer(for: DaemonSet.self)
        let podInformer = context.informers.informer(for: Pod.self)
        let nodeInformer = context.informers.informer(for: Node.self)
        sets = setInformer.lister
        pods = podInformer.lister
        nodes = nodeInformer.lister
        revisions = context.informers.lister(for: ControllerRevision.self)
        history = ControllerHistory(client: context.client)
        podControl = PodControl(client: context.client, recorder: context.recorder)
        setInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] set, _ in queue.add(set.key) },
                onUpdate: { [self] _, set in queue.add(set.key) },
                onDelete: { [self] event in
                    expectations.delete(event.key)
                    queue.add(event.key)
                }))
        podInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] pod, _ in
                    guard let set = owner(of: pod) else { return }
                    expectations.creationObserved(set.key)
                    queue.add(set.key)
                },
                onUpdate: { [self] old, new in
                    guard old.metadata.resourceVersion != new.metadata.resourceVersion else { return }
                    if let set = owner(of: new) {
                        queue.add(set.key)
                        if !PodAvailability.isReady(old), PodAvailability.isReady(new),
                            let minReady = set.spec.minReadySeconds, minReady > 0
                        {
                            queue.add(set.key, after: .seconds(Int(minReady) + 1))
                        }
                    }
                },
                onDelete: { [self] event in
                    guard let set = owner(of: event.object) else { return }
                    expectations.deletionObserved(set.key, uid: event.object.metadata.uid ?? "")
                    queue.add(set.key)
                }))
        nodeInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] _, _ in enqueueAll() },
                onUpdate: { [self] old, new in
                    // Only what placement reads: labels, taints, cordoning.
                    if old.metadata.labels != new.metadata.labels || old.spec.taints != new.spec.taints
                        || old.spec.unschedulable != new.spec.unschedulable
                    {
                        enqueueAll()
                    }
                },
                onDelete: { [self] _ in enqueueAll() }))
    }

    public func run(workers: Int) async {
        await queue.runWorkers(workers, logger: context.logger) { key in try await self.sync(key) }
    }

    private func enqueueAll() {
        for set in sets.list() { queue.add(set.key) }
    }

    /// The set a pod's controller reference names, if it still exists with that UID.
    func owner(of pod: Pod) -> DaemonSet? {
        guard let reference = pod.metadata.controllerRef, reference.kind == "DaemonSet",
            let set = sets.get(namespace: pod.metadata.namespace ?? "", name: reference.name ?? ""),
            set.metadata.uid == reference.uid
        else { return nil }
        return set
    }
}

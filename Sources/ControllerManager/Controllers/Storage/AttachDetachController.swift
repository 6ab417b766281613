import APIMachinery
import Client
import Component
import Logging
import NIOConcurrencyHelpers

/// Upstream's attach/detach controller for a cluster whose volume plugins are CSI drivers known only as objects:
/// for every node that lets the controller manage its attachments, a VolumeAttachment exists for each CSI volume
/// a scheduled, running pod there mounts, and goes once no pod on the node needs it. The drivers' external
/// attachers do the attaching; `node.status.volumesAttached` is the kubelet's side and is left alone.
public final class AttachDetachController: Controller {
    public static let descriptor = ControllerDescriptor(
        name: "persistentvolume-attach-detach-controller", aliases: ["attachdetach"],
        serviceAccount: "attachdetach-controller",
        flags: [
            FlagDefinition("attach-detach-reconcile-sync-period", default: "1m0s"),
            FlagDefinition("disable-attach-detach-reconcile-sync", bool: true, default: "false"),
        ]
    ) { context in try AttachDetachController(context: context) }

    let context: ControllerContext
    /// Keys are node names: each sync reconciles one node's attachments.
    let queue: RateLimitingQueue<ObjectKey>
    let pods: Lister<Pod>
    let nodes: Lister<Node>
    let claims: Lister<PersistentVolumeClaim>
    let volumes: Lister<PersistentVolume>
    let drivers: Lister<CSIDriver>
    let attachments: Lister<VolumeAttachment>
    let syncPeriod: Duration?
    /// When each attachment still reported in use by its node first became unneeded.
    private let unneededSince = NIOLockedValueBox<[String: ContinuousClock.Instant]>([:])

    public init(context: ControllerContext) throws {
        self.context = context
        let period = try context.duration("attach-detach-reconcile-sync-period")
        syncPeriod = context.flags.bool("disable-attach-detach-reconcile-sync") ? nil : period
        queue = RateLimitingQueue(name: "attachdetach", time: context.time)
        let podInformer = context.informers.informer(for: Pod.self)
        let nodeInformer = context.informers.informer(for: Node.self)
        let attachmentInformer = context.informers.informer(for: VolumeAttachment.self)
        Pod.addNodeNameIndex(to: podInformer)
        pods = podInformer.lister
        nodes = nodeInformer.lister
        attachments = attachmentInformer.lister
        claims = context.informers.lister(for: PersistentVolumeClaim.self)
        volumes = context.informers.lister(for: PersistentVolume.self)
        drivers = context.informers.lister(for: CSIDriver.self)
        podInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] pod, _ in enqueueNode(pod.spec.nodeName) },
                onUpdate: { [self] old, new in
                    enqueueNode(new.spec.nodeName)
                    if old.spec.nodeName != new.spec.nodeName { enqueueNode(old.spec.nodeName) }
                },
                onDelete: { [self] event in enqueueNode(event.object.spec.nodeName) }))
        nodeInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] node, _ in enqueueNode(node.metadata.name) },
                onUpdate: { [self] _, node in enqueueNode(node.metadata.name) },
                onDelete: { [self] event in enqueueNode(event.object.metadata.name) }))
        attachmentInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] attachment, _ in enqueueNode(attachment.spec.nodeName) },
                onUpdate: { [self] _, attachment in enqueueNode(attachment.spec.nodeName) },
                onDelete: { [self] event in enqueueNode(event.object.spec.nodeName) }))
        // A claim binding or its volume changing concerns the nodes of the claim's pods; a driver changing its
        // mind may concern any node.
        context.informers.informer(for: PersistentVolumeClaim.self).addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] claim, initial in if !initial { enqueueNodes(using: claim.key) } },
                onUpdate: { [self] _, claim in enqueueNodes(using: claim.key) }))
        context.informers.informer(for: PersistentVolume.self).addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] volume, initial in if !initial { enqueueNodes(usingClaimOf: volume) } },
                onUpdate: { [self] _, volume in enqueueNodes(usingClaimOf: volume) }))
        let everyNode: @Sendable () -> Void = { [self] in enqueueAllNodes() }
        context.informers.informer(for: CSIDriver.self).addEventHandler(
            ResourceEventHandler(
                onAdd: { _, initial in if !initial { everyNode() } }, onUpdate: { _, _ in everyNode() },
                onDelete: { _ in everyNode() }))
    }

    public func run(workers: Int) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.reconcileLoop() }
            group.addTask {
                await self.queue.runWorkers(max(1, workers), logger: self.context.logger) { key in
                    try await self.sync(key)
                }
            }
            await group.waitForAll()
        }
    }

    private func enqueueNode(_ name: String?) {
        guard let name, !name.isEmpty else { return }
        queue.add(ObjectKey(namespace: "", name: name))
    }

    /// The nodes running pods that mount the claim `key`.
    private func enqueueNodes(using key: ObjectKey) {
        for pod in pods.list(namespace: key.namespace)
        where VolumeProtection.claimNames(of: pod).contains(key.name) {
            enqueueNode(pod.spec.nodeName)
        }
    }

    private func enqueueNodes(usingClaimOf volume: PersistentVolume) {
        guard let reference = volume.spec.claimRef, let name = reference.name else { return }
        enqueueNodes(using: ObjectKey(namespace: reference.namespace ?? "", name: name))
    }

    private func enqueueAllNodes() {
        var names = Set(nodes.list().compactMap(\.metadata.name))
        names.formUnion(attachments.list().compactMap(\.spec.nodeName))
        for name in names { enqueueNode(name) }
    }

    /// Upstream's reconciler loop: every period each node is reconciled again, whatever the events said.
    private func reconcileLoop() async {
        guard let syncPeriod else { return }
        while !Task.isCancelled {
            do {
                try await context.time.sleep(for: syncPeriod)
            } catch {
                return
            }
            enqueueAllNodes()
        }
    }

    /// Makes one node's VolumeAttachments match what its pods need.
    func sync(_ key: ObjectKey) async throws {
        let nodeName = key.name
        let node = nodes.get(name: nodeName)
        let managed = node.map { $0.metadata.annotations[VolumeAttachments.managedAnnotation] != nil } ?? false
        let wanted =
            managed
            ? VolumeAttachments.wanted(
                node: nodeName, pods: (try? pods.byIndex(Pod.nodeNameIndex, nodeName)) ?? [],
                claim: { claims.get(namespace: $0, name: $1) }, volume: { volumes.get(name: $0) },
                driver: { drivers.get(name: $0) }) : [:]
        let existing = attachments.list().filter { $0.spec.nodeName == nodeName }
        let client = ResourceClient<VolumeAttachment>(client: context.client)
        let existingNames = Set(existing.compactMap(\.metadata.name))
        for (name, attachment) in wanted.sorted(by: { $0.key < $1.key }) where !existingNames.contains(name) {
            do {
                _ = try await client.create(attachment.object)
            } catch let error as StatusError where error.code == 409 {
                continue
            }
        }
        var retry: Duration?
        for attachment in existing {
            guard let name = attachment.metadata.name, wanted[name] == nil,
                attachment.spec.source?.persistentVolumeName != nil, attachment.metadata.deletionTimestamp == nil
            else {
                unneededSince.withLockedValue { _ = $0.removeValue(forKey: attachment.metadata.name ?? "") }
                continue
            }
            if let wait = remainingMountWait(attachment, node: node) {
                retry = min(retry ?? wait, wait)
                continue
            }
            do {
                try await client.delete(name)
            } catch let error as StatusError where error.code == 404 {}
            unneededSince.withLockedValue { _ = $0.removeValue(forKey: name) }
        }
        if let retry { queue.add(key, after: retry) }
    }

    /// How much longer to keep an unneeded attachment the node still reports mounted; nil to detach now.
    private func remainingMountWait(_ attachment: VolumeAttachment, node: Node?) -> Duration? {
        guard let node, let name = attachment.metadata.name,
            let volumeName = attachment.spec.source?.persistentVolumeName,
            let csi = volumes.get(name: volumeName)?.spec.csi, let driver = csi.driver, let handle = csi.volumeHandle,
            node.status.volumesInUse.contains(VolumeAttachments.uniqueVolumeName(driver: driver, handle: handle))
        else { return nil }
        let now = context.time.now
        let since = unneededSince.withLockedValue { state in
            if let since = state[name] { return since }
            state[name] = now
            return now
        }
        let remaining = VolumeAttachments.maxWaitForUnmount - since.duration(to: now)
        return remaining > .zero ? remaining : nil
    }
}

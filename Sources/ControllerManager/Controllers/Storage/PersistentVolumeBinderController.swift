import APIMachinery
import Client
import Component
import Logging

/// Upstream's persistent volume controller without volume plugins: binds claims to the smallest Available volume
/// that fits them (or the one either side names), keeps both sides' phases true, reclaims released volumes by
/// their policy, and leaves dynamic provisioning to external provisioners with upstream's annotations and events.
public final class PersistentVolumeBinderController: Controller {
    public static let descriptor = ControllerDescriptor(
        name: "persistentvolume-binder-controller", aliases: ["persistentvolume-binder"],
        serviceAccount: "persistent-volume-binder",
        flags: [FlagDefinition("pvclaimbinder-sync-period", default: "15s")]
    ) { context in try PersistentVolumeBinderController(context: context) }

    let context: ControllerContext
    /// Upstream keeps one queue (and one worker) per side of the binding.
    let volumeQueue: RateLimitingQueue<ObjectKey>
    let claimQueue: RateLimitingQueue<ObjectKey>
    let volumes: Lister<PersistentVolume>
    let claims: Lister<PersistentVolumeClaim>
    let classes: Lister<StorageClass>
    let pods: Lister<Pod>
    let nodes: Lister<Node>
    let syncPeriod: Duration

    public init(context: ControllerContext) throws {
        self.context = context
        syncPeriod = try context.duration("pvclaimbinder-sync-period")
        volumeQueue = RateLimitingQueue(name: "volumes", time: context.time)
        claimQueue = RateLimitingQueue(name: "claims", time: context.time)
        let volumeInformer = context.informers.informer(for: PersistentVolume.self)
        let claimInformer = context.informers.informer(for: PersistentVolumeClaim.self)
        volumes = volumeInformer.lister
        claims = claimInformer.lister
        classes = context.informers.lister(for: StorageClass.self)
        pods = context.informers.lister(for: Pod.self)
        nodes = context.informers.lister(for: Node.self)
        volumeInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] volume, _ in enqueue(volume) },
                onUpdate: { [self] _, volume in enqueue(volume) },
                onDelete: { [self] event in enqueue(event.object) }))
        claimInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] claim, _ in claimQueue.add(claim.key) },
                onUpdate: { [self] _, claim in claimQueue.add(claim.key) },
                onDelete: { [self] event in
                    // The claim's volume is released now rather than at the next resync, as upstream's deleteClaim.
                    if let name = event.object.spec.volumeName, !name.isEmpty {
                        volumeQueue.add(ObjectKey(namespace: "", name: name))
                    }
                }))
    }

    public func run(workers: Int) async {
        let logger = context.logger
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.resyncLoop() }
            group.addTask { await self.volumeQueue.runWorkers(1, logger: logger) { try await self.syncVolume($0) } }
            group.addTask { await self.claimQueue.runWorkers(1, logger: logger) { try await self.syncClaim($0) } }
            await group.waitForAll()
        }
    }

    /// A volume's sync, and the sync of the claim it names, so a pre-bound or released pair converges together.
    private func enqueue(_ volume: PersistentVolume) {
        volumeQueue.add(volume.key)
        if let reference = volume.spec.claimRef, let name = reference.name {
            claimQueue.add(ObjectKey(namespace: reference.namespace ?? "", name: name))
        }
    }

    /// Every sync period every claim and volume is looked at again (upstream's `resync`), which is how a pending
    /// claim finds a volume created after it.
    private func resyncLoop() async {
        while !Task.isCancelled {
            do {
                try await context.time.sleep(for: syncPeriod)
            } catch {
                return
            }
            for claim in claims.list() { claimQueue.add(claim.key) }
            for volume in volumes.list() { volumeQueue.add(volume.key) }
        }
    }

    var volumeClient: ResourceClient<PersistentVolume> { ResourceClient(client: context.client) }

    func claimClient(_ claim: PersistentVolumeClaim) -> ResourceClient<PersistentVolumeClaim> {
        ResourceClient(client: context.client, namespace: claim.metadata.namespace)
    }

    /// Records an event; the events.k8s.io `action` names the step (upstream's legacy recorder has none).
    func event(
        _ object: some KubernetesObject, _ type: EventType, _ reason: String, _ note: String, action: String = "Binding"
    ) {
        context.recorder.eventf(
            regarding: ObjectReference(to: object), type: type, reason: reason, action: action, note: note)
    }

    // MARK: Writes, each a no-op when the object already says what it should.

    /// Binds both sides, as upstream's `bind`: the volume's `claimRef`, its phase, the claim's `volumeName` and
    /// annotations, then the claim's phase, capacity and access modes.
    func bind(_ volume: PersistentVolume, _ claim: PersistentVolumeClaim) async throws {
        var volume = volume
        let reference = volume.spec.claimRef
        if reference?.name != claim.metadata.name || reference?.namespace != claim.metadata.namespace
            || reference?.uid != claim.metadata.uid
        {
            var updated = volume
            if !VolumeMatching.isBound(volume, to: claim) {
                updated.metadata.annotations[VolumeMatching.boundByController] = "yes"
            }
            updated.spec.claimRef = ObjectReference(to: claim)
            volume = try await volumeClient.update(updated)
        }
        volume = try await setPhase(volume, "Bound")
        var claim = claim
        var updated = claim
        if claim.spec.volumeName != volume.metadata.name {
            updated.spec.volumeName = volume.metadata.name
            if updated.metadata.annotations[VolumeMatching.boundByController] == nil {
                updated.metadata.annotations[VolumeMatching.boundByController] = "yes"
            }
        }
        if updated.metadata.annotations[VolumeMatching.bindCompleted] == nil {
            updated.metadata.annotations[VolumeMatching.bindCompleted] = "yes"
        }
        if updated != claim { claim = try await claimClient(claim).update(updated) }
        try await setClaimStatus(claim, "Bound", volume: volume)
    }

    /// Writes the volume's phase (and message) unless it already has that phase.
    @discardableResult
    func setPhase(_ volume: PersistentVolume, _ phase: String, message: String? = nil) async throws -> PersistentVolume
    {
        guard volume.status.phase != phase else { return volume }
        var updated = volume
        updated.status.phase = phase
        updated.status.message = message
        return try await volumeClient.updateStatus(updated)
    }

    /// Writes the claim's phase; with a volume its access modes, and its capacity when the claim is newly bound
    /// (a differing capacity afterwards may be a resize on purpose); without one, clears both.
    @discardableResult
    func setClaimStatus(_ claim: PersistentVolumeClaim, _ phase: String, volume: PersistentVolume?) async throws
        -> PersistentVolumeClaim
    {
        var updated = claim
        updated.status.phase = phase
        if let volume {
            updated.status.accessModes = volume.spec.accessModes
            if claim.status.phase != phase, let size = volume.spec.capacity["storage"],
                claim.status.capacity["storage"] != size
            {
                updated.status.capacity = volume.spec.capacity
            }
        } else {
            updated.status.accessModes = []
            updated.status.capacity = [:]
        }
        guard updated != claim else { return claim }
        return try await claimClient(claim).updateStatus(updated)
    }

    /// Sets a claim's phase with an event, both only when the phase changes (upstream's
    /// `updateClaimStatusWithEvent`).
    func setClaimStatus(
        _ claim: PersistentVolumeClaim, _ phase: String, event type: EventType, _ reason: String, _ note: String
    ) async throws {
        guard claim.status.phase != phase else { return }
        let updated = try await setClaimStatus(claim, phase, volume: nil)
        event(updated, type, reason, note)
    }
}

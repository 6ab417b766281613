import APIMachinery
import Client
import Component
import Logging

/// Upstream's PV protection controller: keeps `kubernetes.io/pv-protection` on every volume and removes it from a
/// volume being deleted once it is no longer Bound to a claim.
public final class PVProtectionController: Controller {
    public static let descriptor = ControllerDescriptor(
        name: "persistentvolume-protection-controller", aliases: ["pv-protection"],
        serviceAccount: "pv-protection-controller"
    ) { context in PVProtectionController(context: context) }

    let context: ControllerContext
    let queue: RateLimitingQueue<ObjectKey>
    let volumes: Lister<PersistentVolume>

    public init(context: ControllerContext) {
        self.context = context
        queue = RateLimitingQueue(name: "pvprotection", time: context.time)
        let volumeInformer = context.informers.informer(for: PersistentVolume.self)
        volumes = volumeInformer.lister
        volumeInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] volume, _ in queue.add(volume.key) },
                onUpdate: { [self] _, volume in queue.add(volume.key) }))
    }

    public func run(workers: Int) async {
        await queue.runWorkers(workers, logger: context.logger) { key in try await self.sync(key) }
    }

    func sync(_ key: ObjectKey) async throws {
        guard let volume = volumes.get(name: key.name) else { return }
        let action = VolumeProtection.action(
            finalizers: volume.metadata.finalizers, finalizer: VolumeProtection.volumeFinalizer,
            deleting: volume.metadata.isDeleting
        ) { VolumeProtection.volumeInUse(volume) }
        var updated = volume
        switch action {
        case .none: return
        case .addFinalizer: updated.metadata.finalizers.append(VolumeProtection.volumeFinalizer)
        case .removeFinalizer: updated.metadata.finalizers.removeAll { $0 == VolumeProtection.volumeFinalizer }
        }
        do {
            _ = try await ResourceClient<PersistentVolume>(client: context.client).update(updated)
        } catch let error as StatusError where error.code == 404 {
            return
        }
    }
}

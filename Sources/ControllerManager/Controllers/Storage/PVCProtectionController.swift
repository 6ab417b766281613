import APIMachinery
import Client
import Component
import Logging

/// Upstream's PVC protection controller: keeps `kubernetes.io/pvc-protection` on every claim and removes it from
/// a claim being deleted once no scheduled pod uses it, so a claim in use outlives its delete request.
public final class PVCProtectionController: Controller {
    public static let descriptor = ControllerDescriptor(
        name: "persistentvolumeclaim-protection-controller", aliases: ["pvc-protection"],
        serviceAccount: "pvc-protection-controller"
    ) { context in PVCProtectionController(context: context) }

    let context: ControllerContext
    let queue: RateLimitingQueue<ObjectKey>
    let claims: Lister<PersistentVolumeClaim>
    let pods: Lister<Pod>

    public init(context: ControllerContext) {
        self.context = context
        queue = RateLimitingQueue(name: "pvcprotection", time: context.time)
        let claimInformer = context.informers.informer(for: PersistentVolumeClaim.self)
        let podInformer = context.informers.informer(for: Pod.self)
        claims = claimInformer.lister
        pods = podInformer.lister
        claimInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] claim, _ in queue.add(claim.key) },
                onUpdate: { [self] _, claim in queue.add(claim.key) }))
        podInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] pod, _ in enqueueClaims(of: pod) },
                onUpdate: { [self] _, pod in enqueueClaims(of: pod) },
                onDelete: { [self] event in enqueueClaims(of: event.object) }))
    }

    public func run(workers: Int) async {
        await queue.runWorkers(workers, logger: context.logger) { key in try await self.sync(key) }
    }

    /// A pod's claims are looked at again whenever the pod changes or goes, since it may have been their last user.
    private func enqueueClaims(of pod: Pod) {
        let namespace = pod.metadata.namespace ?? ""
        for name in VolumeProtection.claimNames(of: pod) { queue.add(ObjectKey(namespace: namespace, name: name)) }
    }

    func sync(_ key: ObjectKey) async throws {
        guard let claim = claims.get(namespace: key.namespace, name: key.name) else { return }
        let deleting = claim.metadata.isDeleting
        var inUse = false
        if deleting && claim.metadata.finalizers.contains(VolumeProtection.claimFinalizer) {
            inUse = try await isInUse(claim)
        }
        let action = VolumeProtection.action(
            finalizers: claim.metadata.finalizers, finalizer: VolumeProtection.claimFinalizer, deleting: deleting
        ) { inUse }
        var updated = claim
        switch action {
        case .none: return
        case .addFinalizer: updated.metadata.finalizers.append(VolumeProtection.claimFinalizer)
        case .removeFinalizer: updated.metadata.finalizers.removeAll { $0 == VolumeProtection.claimFinalizer }
        }
        do {
            _ = try await ResourceClient<PersistentVolumeClaim>(client: context.client, namespace: key.namespace)
                .update(updated)
        } catch let error as StatusError where error.code == 404 {
            return
        }
    }

    /// Whether a scheduled pod uses the claim: the cache first, then the server, so a pod the cache has not seen
    /// yet never loses its claim (upstream's `askInformer`, then `askAPIServer`).
    private func isInUse(_ claim: PersistentVolumeClaim) async throws -> Bool {
        let now = context.time.wallNow
        let namespace = claim.metadata.namespace ?? ""
        if pods.list(namespace: namespace).contains(where: { VolumeProtection.podUses($0, claim: claim, now: now) }) {
            return true
        }
        let live = try await ResourceClient<Pod>(client: context.client, namespace: namespace).list()
        return live.items.contains { VolumeProtection.podUses($0, claim: claim, now: now) }
    }
}

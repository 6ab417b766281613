import APIMachinery
import Client
import Component
import Foundation
import Logging
import NIOConcurrencyHelpers
import Quota

/// Upstream's resource quota controller: keeps every quota's `status.hard` equal to its spec and
/// `status.used` equal to what the namespace's objects use, recomputed in full when a quota changes, when
/// an object's usage changes or it goes away (upstream's replenishment), and every sync period. Pods, services
/// and claims are watched through typed informers; any other kind a quota counts (`count/replicasets.apps`,
/// `configmaps`, …) gets a metadata monitor once a quota names it, as upstream's quota monitor does.
public final class ResourceQuotaController: Controller {
    public static let descriptor = ControllerDescriptor(
        name: "resourcequota-controller", aliases: ["resourcequota"], serviceAccount: "resourcequota-controller",
        flags: [
            FlagDefinition("concurrent-resource-quota-syncs", default: "5"),
            FlagDefinition("resource-quota-sync-period", default: "5m0s"),
        ],
        workersFlag: "concurrent-resource-quota-syncs"
    ) { context in try ResourceQuotaController(context: context) }

    let context: ControllerContext
    let queue: RateLimitingQueue<ObjectKey>
    let quotas: Lister<ResourceQuota>
    let pods: Lister<Pod>
    let services: Lister<Service>
    let claims: Lister<PersistentVolumeClaim>
    let syncPeriod: Duration
    let monitors: ResourceMonitors
    /// Counted kinds already looked up in discovery since the last sync period, found or not.
    private let lookedUp = NIOLockedValueBox<Set<GroupResource>>([])
    /// The kinds whose typed informers already replenish.
    static let typedReplenishment: Set<GroupResource> = [
        GroupResource(group: "", resource: "pods"), GroupResource(group: "", resource: "services"),
        GroupResource(group: "", resource: "persistentvolumeclaims"),
    ]

    public init(context: ControllerContext) throws {
        self.context = context
        syncPeriod = try context.duration("resource-quota-sync-period")
        queue = RateLimitingQueue(name: "resourcequota_primary", time: context.time)
        let quotaInformer = context.informers.informer(for: ResourceQuota.self)
        let podInformer = context.informers.informer(for: Pod.self)
        let serviceInformer = context.informers.informer(for: Service.self)
        let claimInformer = context.informers.informer(for: PersistentVolumeClaim.self)
        quotas = quotaInformer.lister
        let (quotaLister, quotaQueue) = (quotas, queue)
        monitors = ResourceMonitors(
            client: context.client, informers: context.informers, time: context.time, logger: context.logger
        ) { _ in
            ResourceEventHandler(
                onAdd: { object, isInInitialList in
                    if !isInInitialList { Self.enqueueQuotas(in: object.metadata.namespace, quotaLister, quotaQueue) }
                },
                onDelete: { event in Self.enqueueQuotas(in: event.key.namespace, quotaLister, quotaQueue) })
        }
        pods = podInformer.lister
        services = serviceInformer.lister
        claims = claimInformer.lister
        quotaInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] quota, _ in queue.add(quota.key) },
                onUpdate: { [self] old, new in
                    // Only a spec change or a status out of step with spec needs measuring; our own
                    // status writes come back here too.
                    if old.spec != new.spec || new.status.hard != new.spec.hard { queue.add(new.key) }
                }))
        podInformer.addEventHandler(replenishment(QuotaEvaluator(GroupResource(group: "", resource: "pods"))))
        serviceInformer.addEventHandler(replenishment(QuotaEvaluator(GroupResource(group: "", resource: "services"))))
        claimInformer.addEventHandler(
            replenishment(QuotaEvaluator(GroupResource(group: "", resource: "persistentvolumeclaims"))))
    }

    public func run(workers: Int) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.resyncLoop() }
            group.addTask {
                await self.queue.runWorkers(workers, logger: self.context.logger) { key in try await self.sync(key) }
            }
            await group.waitForAll()
        }
        await monitors.stop()
    }

    /// Every sync period, every quota is measured again (upstream's `enqueueAll`).
    private func resyncLoop() async {
        while !Task.isCancelled {
            do {
                try await context.time.sleep(for: syncPeriod)
            } catch {
                return
            }
            lookedUp.withLockedValue { $0 = [] }
            for quota in quotas.list() { queue.add(quota.key) }
        }
    }

    /// Handlers that remeasure a namespace's quotas when one of its objects is created, goes away, or
    /// changes what it uses (a pod finishing, a service changing type, a claim growing).
    private func replenishment<Object: KubernetesObject>(_ usage: QuotaEvaluator) -> ResourceEventHandler<Object> {
        ResourceEventHandler(
            onAdd: { [self] object, isInInitialList in
                if !isInInitialList { enqueueQuotas(in: object.metadata.namespace) }
            },
            onUpdate: { [self] old, new in
                let now = context.time.wallNow
                if usage.usage(old.toJSON(), now: now) != usage.usage(new.toJSON(), now: now)
                    || old.metadata.isDeleting != new.metadata.isDeleting
                {
                    enqueueQuotas(in: new.metadata.namespace)
                }
            },
            onDelete: { [self] event in enqueueQuotas(in: event.key.namespace) })
    }

    private func enqueueQuotas(in namespace: String?) { Self.enqueueQuotas(in: namespace, quotas, queue) }

    private static func enqueueQuotas(
        in namespace: String?, _ quotas: Lister<ResourceQuota>, _ queue: RateLimitingQueue<ObjectKey>
    ) {
        for quota in quotas.list(namespace: namespace ?? "") { queue.add(quota.key) }
    }

    /// Starts a monitor for each kind `quota` counts that has none yet, found through discovery (a kind the
    /// server does not serve is looked up again only after the next sync period).
    func monitorCountedKinds(of quota: ResourceQuota) async throws {
        let hard = quota.spec.hard.keys
        let counted = Set(
            QuotaEvaluator.evaluators(for: hard).filter { !$0.matchingResources(hard).isEmpty }.map(\.resource))
        let wanted = lookedUp.withLockedValue { counted.subtracting(Self.typedReplenishment).subtracting($0) }
        guard !wanted.isEmpty else { return }
        let discovered = try await ResourceDiscovery.discover(client: context.client)
        let found = discovered.preferred.filter {
            wanted.contains(GroupResource(group: $0.descriptor.group, resource: $0.descriptor.resource))
                && $0.supports(["list", "watch"])
        }
        monitors.add(Set(found.map(\.descriptor)))
        lookedUp.withLockedValue { $0.formUnion(wanted) }
    }

    /// Measures one quota and writes its status when it differs.
    func sync(_ key: ObjectKey) async throws {
        guard let quota = quotas.get(namespace: key.namespace, name: key.name) else { return }
        try await monitorCountedKinds(of: quota)
        let used = try await usage(of: quota)
        guard quota.status.hard != quota.spec.hard || quota.status.used != used else { return }
        let hard = quota.spec.hard
        try await StatusWriter.write(quota, client: context.client) {
            $0.status.hard = hard
            $0.status.used = used
        }
    }

    /// What the quota's namespace uses of every resource the quota limits, zeros included.
    func usage(of quota: ResourceQuota) async throws -> [String: Quantity] {
        let namespace = quota.metadata.namespace ?? ""
        let scopes = QuotaScopes(spec: quota.spec.toJSON())
        let now = context.time.wallNow
        var used: [String: Quantity] = [:]
        for evaluator in QuotaEvaluator.evaluators(for: quota.spec.hard.keys) {
            let names = evaluator.matchingResources(quota.spec.hard.keys)
            guard !names.isEmpty else { continue }
            for name in names { used[name] = used[name] ?? Quantity() }
            for object in try await objects(evaluator, namespace: namespace)
            where scopes.matches(evaluator.kind, object) {
                ResourceLists.add(&used, ResourceLists.mask(evaluator.usage(object, now: now), names))
            }
        }
        return used
    }

    /// The objects of `evaluator`'s kind in `namespace`: from the shared caches for the kinds watched, from
    /// the API otherwise (nothing for a kind the server does not serve).
    private func objects(_ evaluator: QuotaEvaluator, namespace: String) async throws -> [JSON] {
        let group = evaluator.resource.group
        if group.isEmpty {
            switch evaluator.resource.resource {
            case "pods": return pods.list(namespace: namespace).map { $0.toJSON() }
            case "services": return services.list(namespace: namespace).map { $0.toJSON() }
            case "persistentvolumeclaims": return claims.list(namespace: namespace).map { $0.toJSON() }
            default: break
            }
        }
        let groupVersion: String
        if group.isEmpty {
            groupVersion = "api/v1"
        } else {
            do {
                let group = try await context.client.getJSON(path: "/apis/\(group)")
                guard let preferred = group["preferredVersion"]?["groupVersion"]?.stringValue else { return [] }
                groupVersion = "apis/" + preferred
            } catch let error as StatusError where error.code == 404 {
                return []
            }
        }
        do {
            let list = try await context.client.getJSON(
                path: "/\(groupVersion)/namespaces/\(namespace)/\(evaluator.resource.resource)")
            return list["items"]?.arrayValue ?? []
        } catch let error as StatusError where error.code == 404 || error.code == 405 {
            return []
        }
    }
}

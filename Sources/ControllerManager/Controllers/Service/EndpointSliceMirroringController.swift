import APIMachinery
import Client
import Component
import Logging

/// Upstream's endpointslice-mirroring controller: a service without a selector has its Endpoints written by
/// someone else; this controller mirrors them into EndpointSlices (owned by the Endpoints), so that
/// EndpointSlice consumers see them too, and removes the mirrors when that no longer holds.
final class EndpointSliceMirroringController: Controller {
    static let descriptor = ControllerDescriptor(
        name: "endpointslice-mirroring-controller", aliases: ["endpointslicemirroring"],
        serviceAccount: "endpointslicemirroring-controller",
        flags: [
            FlagDefinition("mirroring-concurrent-service-endpoint-syncs", default: "5"),
            FlagDefinition("mirroring-max-endpoints-per-subset", default: "1000"),
            FlagDefinition(
                "mirroring-endpointslice-updates-batch-period", default: "0s",
                support: .noEffect("changes are synced as they come")),
        ],
        workersFlag: "mirroring-concurrent-service-endpoint-syncs"
    ) { context in try EndpointSliceMirroringController(context: context) }

    let context: ControllerContext
    let queue: RateLimitingQueue<ObjectKey>
    let services: Lister<Service>
    let endpoints: Lister<Endpoints>
    let slices: Lister<EndpointSlice>
    let mirroring: EndpointSliceMirroring
    let tracker = EndpointSliceTracker()

    init(context: ControllerContext) throws {
        let maxPerSubset = try context.flags.int("mirroring-max-endpoints-per-subset")
        guard (1...1000).contains(maxPerSubset) else {
            throw FlagError(
                message: "--mirroring-max-endpoints-per-subset must be between 1 and 1000, got \(maxPerSubset)")
        }
        self.context = context
        mirroring = EndpointSliceMirroring(maxEndpointsPerSubset: maxPerSubset)
        queue = RateLimitingQueue(name: "endpoint_slice_mirroring", time: context.time)
        let serviceInformer = context.informers.informer(for: Service.self)
        let endpointsInformer = context.informers.informer(for: Endpoints.self)
        let sliceInformer = context.informers.informer(for: EndpointSlice.self)
        services = serviceInformer.lister
        endpoints = endpointsInformer.lister
        slices = sliceInformer.lister
        let queue = self.queue
        let tracker = self.tracker
        serviceInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { service, _ in queue.add(service.key) },
                onUpdate: { _, service in queue.add(service.key) },
                onDelete: { event in queue.add(event.key) }))
        endpointsInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { endpoints, _ in queue.add(endpoints.key) },
                onUpdate: { _, endpoints in queue.add(endpoints.key) },
                onDelete: { event in queue.add(event.key) }))
        sliceInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { slice, _ in
                    if let service = Self.mirroredService(slice), tracker.shouldSync(slice, service: service) {
                        queue.add(service)
                    }
                },
                onUpdate: { old, new in
                    for slice in [old, new] {
                        if let service = Self.mirroredService(slice), tracker.shouldSync(new, service: service) {
                            queue.add(service)
                        }
                    }
                },
                onDelete: { event in
                    if let service = Self.mirroredService(event.object),
                        tracker.handleDeletion(event.object, service: service)
                    {
                        queue.add(service)
                    }
                }))
    }

    /// The service whose Endpoints `slice` mirrors, when this controller manages it.
    static func mirroredService(_ slice: EndpointSlice) -> ObjectKey? {
        let labels = slice.metadata.labels
        guard labels[EndpointSliceReconciler.managedByLabel] == EndpointSliceMirroring.managedBy,
            let name = labels[EndpointSliceReconciler.serviceNameLabel], !name.isEmpty
        else { return nil }
        return ObjectKey(namespace: slice.metadata.namespace ?? "", name: name)
    }

    func run(workers: Int) async {
        await queue.runWorkers(workers, logger: context.logger) { key in try await self.sync(key) }
    }

    /// Mirrors the Endpoints `key` when its service has no selector; removes the mirrors otherwise.
    func sync(_ key: ObjectKey) async throws {
        guard let service = services.get(namespace: key.namespace, name: key.name) else {
            // The mirrors go with their Endpoints through the garbage collector.
            tracker.deleteService(key)
            return
        }
        let cached = slices.list(
            namespace: key.namespace,
            selector: LabelSelector(requirements: [
                .equals(EndpointSliceReconciler.serviceNameLabel, key.name),
                .equals(EndpointSliceReconciler.managedByLabel, EndpointSliceMirroring.managedBy),
            ]))
        guard !tracker.isStale(cached, service: key) else {
            throw EndpointSliceSyncError(description: "EndpointSlice informer cache is out of date")
        }
        var plan = EndpointSliceReconciler.Plan()
        if service.spec.type != "ExternalName", PodEndpointRules.selector(of: service) == nil,
            let mirrored = endpoints.get(namespace: key.namespace, name: key.name),
            EndpointSliceMirroring.shouldMirror(mirrored)
        {
            plan = mirroring.plan(mirrored, existing: cached)
        } else {
            plan.delete = cached
        }
        let client = ResourceClient<EndpointSlice>(client: context.client, namespace: key.namespace)
        for slice in plan.create {
            do {
                tracker.written(try await client.create(slice), service: key)
            } catch let error as StatusError where error.isNamespaceTerminatingRefusal {
                return
            }
        }
        for slice in plan.update { tracker.written(try await client.update(slice), service: key) }
        for slice in plan.delete {
            tracker.expectDeletion(slice, service: key)
            do {
                try await client.delete(slice.metadata.name ?? "")
            } catch let error as StatusError where error.code == 404 {
                _ = tracker.handleDeletion(slice, service: key)
            }
        }
    }
}

import APIMachinery
import Client
import Component
import Logging

/// Upstream's endpointslice controller: keeps the EndpointSlices of every service with a selector equal to
/// the pods it selects, one set of slices per address family and port set, with minimal churn
/// (`EndpointSliceReconciler`). Slices carry the service as their controller owner, so the garbage collector
/// removes them with it. Topology hints are never set.
final class EndpointSliceController: Controller {
    static let descriptor = ControllerDescriptor(
        name: "endpointslice-controller", aliases: ["endpointslice"], serviceAccount: "endpointslice-controller",
        flags: [
            FlagDefinition("concurrent-service-endpoint-syncs", default: "5"),
            FlagDefinition("max-endpoints-per-slice", default: "100"),
            FlagDefinition(
                "endpointslice-updates-batch-period", default: "0s",
                support: .noEffect("changes are synced as they come")),
        ],
        workersFlag: "concurrent-service-endpoint-syncs"
    ) { context in try EndpointSliceController(context: context) }

    let context: ControllerContext
    let queue: RateLimitingQueue<ObjectKey>
    let services: Lister<Service>
    let pods: Lister<Pod>
    let nodes: Lister<Node>
    let slices: Lister<EndpointSlice>
    let reconciler: EndpointSliceReconciler
    let tracker = EndpointSliceTracker()
    let triggerTimes = TriggerTimeTracker()

    init(context: ControllerContext) throws {
        let maxEndpoints = try context.flags.int("max-endpoints-per-slice")
        // Upstream's validation of --max-endpoints-per-slice.
        guard (1...1000).contains(maxEndpoints) else {
            throw FlagError(message: "--max-endpoints-per-slice must be between 1 and 1000, got \(maxEndpoints)")
        }
        self.context = context
        reconciler = EndpointSliceReconciler(maxEndpointsPerSlice: maxEndpoints)
        queue = RateLimitingQueue(name: "endpoint_slice", time: context.time)
        let serviceInformer = context.informers.informer(for: Service.self)
        let podInformer = context.informers.informer(for: Pod.self)
        let sliceInformer = context.informers.informer(for: EndpointSlice.self)
        services = serviceInformer.lister
        pods = podInformer.lister
        nodes = context.informers.lister(for: Node.self)
        slices = sliceInformer.lister
        let queue = self.queue
        let services = self.services
        let tracker = self.tracker
        serviceInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { service, _ in queue.add(service.key) },
                onUpdate: { _, service in queue.add(service.key) },
                onDelete: { event in queue.add(event.key) }))
        podInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { pod, _ in
                    for service in PodEndpointRules.services(
                        services.list(namespace: pod.metadata.namespace ?? ""), selecting: pod.metadata.labels)
                    {
                        queue.add(service.key)
                    }
                },
                onUpdate: { old, new in
                    for service in PodEndpointRules.servicesToSync(
                        old: old, new: new, in: services.list(namespace: new.metadata.namespace ?? ""))
                    {
                        queue.add(service.key)
                    }
                },
                onDelete: { event in
                    let pod = event.object
                    for service in PodEndpointRules.services(
                        services.list(namespace: pod.metadata.namespace ?? ""), selecting: pod.metadata.labels)
                    {
                        queue.add(service.key)
                    }
                }))
        sliceInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { slice, _ in
                    if let service = Self.managedService(slice), tracker.shouldSync(slice, service: service) {
                        queue.add(service)
                    }
                },
                onUpdate: { old, new in
                    // A slice handed to or taken from this controller, or changed by someone else.
                    for slice in [old, new] {
                        if let service = Self.managedService(slice), tracker.shouldSync(new, service: service) {
                            queue.add(service)
                        }
                    }
                },
                onDelete: { event in
                    if let service = Self.managedService(event.object),
                        tracker.handleDeletion(event.object, service: service)
                    {
                        queue.add(service)
                    }
                }))
    }

    /// The service whose slice `slice` is, when this controller manages it.
    static func managedService(_ slice: EndpointSlice) -> ObjectKey? {
        let labels = slice.metadata.labels
        guard labels[EndpointSliceReconciler.managedByLabel] == EndpointSliceReconciler.managedBy,
            let name = labels[EndpointSliceReconciler.serviceNameLabel], !name.isEmpty
        else { return nil }
        return ObjectKey(namespace: slice.metadata.namespace ?? "", name: name)
    }

    func run(workers: Int) async {
        await queue.runWorkers(workers, logger: context.logger) { key in try await self.sync(key) }
    }
}

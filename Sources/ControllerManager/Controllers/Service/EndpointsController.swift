import APIMachinery
import Client
import Component
import Logging

/// Upstream's endpoints controller: keeps the Endpoints object of every service with a selector equal to the
/// addresses of the pods it selects. Services without a selector are left to whoever manages their
/// Endpoints; the Endpoints of a deleted service are deleted.
final class EndpointsController: Controller {
    static let descriptor = ControllerDescriptor(
        name: "endpoints-controller", aliases: ["endpoint"], serviceAccount: "endpoint-controller",
        flags: [
            FlagDefinition("concurrent-endpoint-syncs", default: "5"),
            FlagDefinition(
                "endpoint-updates-batch-period", default: "0s",
                support: .noEffect("changes are synced as they come")),
        ],
        workersFlag: "concurrent-endpoint-syncs"
    ) { context in EndpointsController(context: context) }

    /// Endpoints carrying this annotation are leader-election records of old components, not a service's.
    static let leaderAnnotation = "control-plane.alpha.kubernetes.io/leader"

    let context: ControllerContext
    let queue: RateLimitingQueue<ObjectKey>
    let services: Lister<Service>
    let pods: Lister<Pod>
    let endpoints: Lister<Endpoints>
    let triggerTimes = TriggerTimeTracker()

    init(context: ControllerContext) {
        self.context = context
        queue = RateLimitingQueue(name: "endpoint", time: context.time)
        let serviceInformer = context.informers.informer(for: Service.self)
        let podInformer = context.informers.informer(for: Pod.self)
        let endpointsInformer = context.informers.informer(for: Endpoints.self)
        services = serviceInformer.lister
        pods = podInformer.lister
        endpoints = endpointsInformer.lister
        let queue = self.queue
        let services = self.services
        serviceInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { service, _ in queue.add(service.key) },
                onUpdate: { _, service in queue.add(service.key) },
                onDelete: { event in queue.add(event.key) }))
        podInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { pod, _ in
                    Self.enqueue(
                        PodEndpointRules.services(Self.candidates(services, pod), selecting: pod.metadata.labels), queue
                    )
                },
                onUpdate: { old, new in
                    Self.enqueue(
                        PodEndpointRules.servicesToSync(old: old, new: new, in: Self.candidates(services, new)), queue)
                },
                onDelete: { event in
                    let pod = event.object
                    Self.enqueue(
                        PodEndpointRules.services(Self.candidates(services, pod), selecting: pod.metadata.labels), queue
                    )
                }))
        // An Endpoints deleted behind the controller's back is recreated (or, without a service, stays gone).
        endpointsInformer.addEventHandler(ResourceEventHandler(onDelete: { event in queue.add(event.key) }))
    }

    private static func candidates(_ services: Lister<Service>, _ pod: Pod) -> [Service] {
        services.list(namespace: pod.metadata.namespace ?? "")
    }

    private static func enqueue(_ services: [Service], _ queue: RateLimitingQueue<ObjectKey>) {
        for service in services { queue.add(service.key) }
    }

    func run(workers: Int) async {
        // Endpoints left over from services deleted while no controller ran (upstream's checkLeftoverEndpoints).
        for object in endpoints.list() where object.metadata.annotations[Self.leaderAnnotation] == nil {
            if services.get(namespace: object.metadata.namespace ?? "", name: object.metadata.name ?? "") == nil {
                queue.add(object.key)
            }
        }
        await queue.runWorkers(workers, logger: context.logger) { key in try await self.sync(key) }
    }
}

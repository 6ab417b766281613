import Client
import Logging
import NIOConcurrencyHelpers

/// Monitors of whole resources by their objects' metadata, as upstream's garbage collector and quota monitor keep
/// them: one informer per resource, each change handed to the handler its owner makes for that resource. A kind
/// the shared informers already cache (pods, ReplicaSets, …) is read from that informer, so the process keeps one
/// copy of each pod, not a second one of its metadata; any other kind gets a metadata informer of its own. Owners
/// keep the set in step with discovery, so kinds that appear later (custom resources included) join.
final class ResourceMonitors: Sendable {
    private struct Monitor: Sendable {
        let informer: any MetadataInformer
        /// Runs the monitor's own metadata informer; nil for a shared one, which the factory runs.
        let task: Task<Void, Never>?
        /// The handler on a shared informer, removed when the monitor stops.
        let registration: HandlerRegistration?

        func stop() {
            if let task { task.cancel() } else if let registration { informer.removeEventHandler(registration) }
        }
    }

    private let client: RESTClient
    private let informers: SharedInformerFactory?
    private let time: any TimeSource
    private let logger: Logger
    private let handler: @Sendable (ResourceDescriptor) -> ResourceEventHandler<PartialObjectMetadata>
    private let monitors = NIOLockedValueBox<[ResourceDescriptor: Monitor]>([:])

    /// Monitors listing through `client`, sharing `informers`' informers for the kinds it already has; `handler`
    /// makes each resource's event handler.
    init(
        client: RESTClient, informers: SharedInformerFactory?, time: any TimeSource, logger: Logger,
        handler: @escaping @Sendable (ResourceDescriptor) -> ResourceEventHandler<PartialObjectMetadata>
    ) {
        self.client = client
        self.informers = informers
        self.time = time
        self.logger = logger
        self.handler = handler
    }

    /// The resources monitored now.
    var resources: Set<ResourceDescriptor> { monitors.withLockedValue { Set($0.keys) } }

    /// Starts a monitor for each of `resources` not yet monitored, keeping the others.
    func add(_ resources: Set<ResourceDescriptor>) {
        let started: [ResourceDescriptor] = monitors.withLockedValue { monitors in
            let started = resources.filter { monitors[$0] == nil }
            for resource in started { monitors[resource] = makeMonitor(resource) }
            return Array(started)
        }
        if !started.isEmpty { logger.info("added monitors for \(started.map(\.description).sorted())") }
    }

    /// Starts a monitor for each of `resources` not yet monitored and stops those not among them.
    func sync(_ resources: Set<ResourceDescriptor>) {
        let (started, stopped): ([ResourceDescriptor], [Monitor]) = monitors.withLockedValue { monitors in
            var started: [ResourceDescriptor] = []
            for resource in resources where monitors[resource] == nil {
                monitors[resource] = makeMonitor(resource)
                started.append(resource)
            }
            let gone = monitors.keys.filter { !resources.contains($0) }
            return (started, gone.compactMap { monitors.removeValue(forKey: $0) })
        }
        for monitor in stopped { monitor.stop() }
        if !started.isEmpty || !stopped.isEmpty {
            logger.info(
                "synced monitors; added \(started.count), kept \(resources.count - started.count), removed \(stopped.count)"
            )
        }
    }

    /// Waits until every current monitor has listed once; false if the task is cancelled first.
    func waitForSync() async -> Bool {
        let informers = monitors.withLockedValue { $0.values.map(\.informer) }
        for informer in informers {
            guard await informer.waitForSync() else { return false }
        }
        return true
    }

    /// Stops every monitor and waits for them to end.
    func stop() async {
        let all = monitors.withLockedValue { monitors in
            defer { monitors = [:] }
            return Array(monitors.values)
        }
        for monitor in all { monitor.stop() }
        for monitor in all { await monitor.task?.value }
    }

    /// Whether `resource` is read from a shared informer rather than a metadata informer of the monitors' own.
    func isShared(_ resource: ResourceDescriptor) -> Bool {
        monitors.withLockedValue { monitors in monitors[resource].map { $0.task == nil } ?? false }
    }

    private func makeMonitor(_ resource: ResourceDescriptor) -> Monitor {
        let handler = handler(resource)
        if let shared = informers?.existingMetadataInformer(for: resource) {
            let registration = shared.addMetadataEventHandler(handler)
            return Monitor(informer: shared, task: nil, registration: registration)
        }
        let informer = SharedIndexInformer<PartialObjectMetadata>(
            listWatch: DynamicListWatch(client: client, resource: resource, logger: logger), time: time,
            logger: logger)
        informer.addEventHandler(handler)
        return Monitor(informer: informer, task: Task { await informer.run() }, registration: nil)
    }
}

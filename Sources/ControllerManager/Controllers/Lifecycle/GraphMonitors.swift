import Client
import Logging
import NIOConcurrencyHelpers

/// The garbage collector's monitors: one metadata informer per deletable resource, each change handed to the
/// graph as a `GraphEvent`. Kept in step with discovery, so kinds that appear later (custom resources included)
/// join and kinds that go away stop being watched.
final class GraphMonitors: Sendable {
    private struct Monitor: Sendable {
        let informer: SharedIndexInformer<PartialObjectMetadata>
        let task: Task<Void, Never>
    }

    private let client: RESTClient
    private let time: any TimeSource
    private let logger: Logger
    private let sink: @Sendable (GraphEvent) -> Void
    private let monitors = NIOLockedValueBox<[ResourceDescriptor: Monitor]>([:])

    init(
        client: RESTClient, time: any TimeSource, logger: Logger, sink: @escaping @Sendable (GraphEvent) -> Void
    ) {
        self.client = client
        self.time = time
        self.logger = logger
        self.sink = sink
    }

    /// The resources monitored now.
    var resources: Set<ResourceDescriptor> { monitors.withLockedValue { Set($0.keys) } }

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
        for monitor in stopped { monitor.task.cancel() }
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
        for monitor in all { monitor.task.cancel() }
        for monitor in all { await monitor.task.value }
    }

    private func makeMonitor(_ resource: ResourceDescriptor) -> Monitor {
        let informer = SharedIndexInformer<PartialObjectMetadata>(
            listWatch: DynamicListWatch(client: client, resource: resource, logger: logger), time: time,
            logger: logger)
        let sink = self.sink
        informer.addEventHandler(
            ResourceEventHandler(
                onAdd: { object, _ in sink(.added(Self.observed(object, resource))) },
                onUpdate: { old, new in
                    sink(.updated(old: Self.observed(old, resource), new: Self.observed(new, resource)))
                },
                onDelete: { event in sink(.deleted(Self.observed(event.object, resource))) }))
        return Monitor(informer: informer, task: Task { await informer.run() })
    }

    private static func observed(_ object: PartialObjectMetadata, _ resource: ResourceDescriptor) -> ObservedObject {
        ObservedObject(
            apiVersion: object.apiVersion ?? resource.apiVersion, kind: object.kind ?? resource.kind,
            metadata: object.metadata)
    }
}

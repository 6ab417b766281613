import APIMachinery
import Client
import Component
import Logging
import NIOConcurrencyHelpers

/// Upstream's garbage collector: an owner graph of every object of every deletable resource, fed by one
/// metadata informer per resource (re-discovered every 30 s, so new kinds join), and workers that delete
/// dependents whose owners are all gone (background), delete dependents before their owner (`foregroundDeletion`)
/// or strip the owner's reference from them (`orphan`).
public final class GarbageCollectorController: Controller {
    public static let descriptor = ControllerDescriptor(
        name: "garbage-collector-controller", aliases: ["garbagecollector"],
        serviceAccount: "generic-garbage-collector",
        flags: [
            FlagDefinition("concurrent-gc-syncs", default: "20"),
            FlagDefinition("enable-garbage-collector", bool: true, default: "true"),
        ],
        workersFlag: "concurrent-gc-syncs"
    ) { context in
        // Upstream skips the controller, and the API server's propagation finalizers then wait forever.
        guard context.flags.bool("enable-garbage-collector") else { return nil }
        return GarbageCollectorController(context: context)
    }

    /// Upstream's period between discovery syncs of the monitors.
    static let discoveryPeriod: Duration = .seconds(30)
    /// Resources never monitored (upstream's default `--gc-ignored-resources`): events are many and own nothing.
    static let ignoredResources: Set<String> = ["events", "events.events.k8s.io"]

    let client: RESTClient
    let recorder: EventRecorder
    let time: any TimeSource
    let logger: Logger
    let graph = NIOLockedValueBox(OwnerGraph())
    /// What discovery found last, as the REST mapper for owner references.
    let discovery = NIOLockedValueBox(DiscoveryResult())
    let attemptToDelete: RateLimitingQueue<UID>
    let attemptToOrphan: RateLimitingQueue<UID>
    let monitors: ResourceMonitors
    private let graphChanges: AsyncStream<GraphEvent>
    private let graphContinuation: AsyncStream<GraphEvent>.Continuation

    /// A collector acting through `context`'s client; its monitors start with `run(workers:)`, not here.
    public init(context: ControllerContext) {
        client = context.client
        recorder = context.recorder
        time = context.time
        logger = context.logger
        attemptToDelete = RateLimitingQueue(name: "garbage_collector_attempt_to_delete", time: context.time)
        attemptToOrphan = RateLimitingQueue(name: "garbage_collector_attempt_to_orphan", time: context.time)
        let (changes, continuation) = AsyncStream.makeStream(of: GraphEvent.self, bufferingPolicy: .unbounded)
        graphChanges = changes
        graphContinuation = continuation
        monitors = ResourceMonitors(
            client: context.client, informers: context.informers, time: context.time, logger: context.logger
        ) { resource in
            ResourceEventHandler(
                onAdd: { object, _ in continuation.yield(.added(Self.observed(object, resource))) },
                onUpdate: { old, new in
                    continuation.yield(.updated(old: Self.observed(old, resource), new: Self.observed(new, resource)))
                },
                onDelete: { event in continuation.yield(.deleted(Self.observed(event.object, resource))) })
        }
    }

    /// An object as the graph sees it; metadata informers may leave apiVersion and kind out.
    private static func observed(_ object: PartialObjectMetadata, _ resource: ResourceDescriptor) -> ObservedObject {
        ObservedObject(
            apiVersion: object.apiVersion ?? resource.apiVersion, kind: object.kind ?? resource.kind,
            metadata: object.metadata)
    }

    public func run(workers: Int) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.processGraphChanges() }
            group.addTask { await self.syncMonitorsPeriodically() }
            group.addTask {
                guard await self.waitForFirstSync() else { return }
                self.logger.info("All resource monitors have synced. Proceeding to collect garbage")
                await withTaskGroup(of: Void.self) { workersGroup in
                    workersGroup.addTask {
                        await self.attemptToDelete.runWorkers(workers, logger: self.logger) { uid in
                            try await self.attemptToDeleteItem(uid)
                        }
                    }
                    workersGroup.addTask {
                        await self.attemptToOrphan.runWorkers(workers, logger: self.logger) { uid in
                            try await self.attemptToOrphanItem(uid)
                        }
                    }
                }
            }
        }
        graphContinuation.finish()
        await monitors.stop()
    }

    /// Applies each change to the graph, one at a time, and hands the work it makes to the queues.
    private func processGraphChanges() async {
        for await event in graphChanges {
            let actions = graph.withLockedValue { $0.process(event) }
            perform(actions)
        }
    }

    func perform(_ actions: [OwnerGraph.Action]) {
        for action in actions {
            switch action {
            case .attemptToDelete(let uid): attemptToDelete.add(uid)
            case .attemptToDeleteRateLimited(let uid): attemptToDelete.addRateLimited(uid)
            case .attemptToOrphan(let uid): attemptToOrphan.add(uid)
            case .invalidNamespaceOwnerReference(let dependent, let owner):
                logger.info("item \(dependent) references an owner \(owner) but does not match namespaces")
                recorder.eventf(
                    regarding: ObjectReference(
                        apiVersion: dependent.apiVersion, kind: dependent.kind, name: dependent.name,
                        namespace: dependent.namespace.isEmpty ? nil : dependent.namespace, uid: dependent.uid.rawValue),
                    type: .warning, reason: "OwnerRefInvalidNamespace", action: "GarbageCollect",
                    note: "ownerRef \(owner) does not exist in namespace \"\(dependent.namespace)\"")
            }
        }
    }

    /// Hands a worker's finding that `identity` does not exist to the graph, in order with the monitors' events.
    func enqueueVirtualDelete(_ identity: ObjectIdentity) {
        graphContinuation.yield(.virtualDelete(identity))
    }

    // MARK: discovery and monitors

    /// The resources the graph watches: each group's preferred version of everything that can be listed,
    /// watched and deleted, less the ignored ones (upstream's `GetDeletableResources`).
    static func monitoredResources(_ result: DiscoveryResult) -> Set<ResourceDescriptor> {
        Set(
            result.preferred.filter { $0.supports(["delete", "list", "watch"]) }.map(\.descriptor).filter {
                !ignoredResources.contains($0.description)
            })
    }

    /// Discovers until it succeeds, starts the monitors and waits for their first lists.
    private func waitForFirstSync() async -> Bool {
        while !Task.isCancelled {
            if await syncMonitors() { return await monitors.waitForSync() }
            guard (try? await time.sleep(for: .seconds(1))) != nil else { return false }
        }
        return false
    }

    private func syncMonitorsPeriodically() async {
        while (try? await time.sleep(for: Self.discoveryPeriod)) != nil {
            await syncMonitors()
        }
    }

    /// Re-reads discovery and monitors every listable, watchable, deletable resource it names; keeps the
    /// current monitors when discovery finds nothing (upstream does not tear the graph down on a failure).
    @discardableResult
    func syncMonitors() async -> Bool {
        let result: DiscoveryResult
        do {
            result = try await ResourceDiscovery.discover(client: client)
        } catch {
            logger.error("failed to discover resources: \(error)")
            return false
        }
        if let failure = result.failureMessage { logger.info("failed to discover some groups: \(failure)") }
        let deletable = Self.monitoredResources(result)
        guard !deletable.isEmpty else { return false }
        discovery.withLockedValue { current in
            // A group that failed this time keeps the mappings it had.
            let kept = current.all.filter { result.failedGroups[$0.descriptor.apiVersion] != nil }
            current = result
            current.all += kept
        }
        let kept = monitors.resources.filter { result.failedGroups[$0.apiVersion] != nil }
        monitors.sync(deletable.union(kept))
        return true
    }
}

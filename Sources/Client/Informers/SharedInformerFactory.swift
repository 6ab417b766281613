public import Logging
import NIOConcurrencyHelpers

/// One informer per kind and scope for a whole process, as client-go's `SharedInformerFactory`: every consumer
/// that asks for Pods gets the same informer, so the process lists and watches Pods once however many
/// controllers read them.
///
/// ```swift
/// let factory = SharedInformerFactory(client: client)
/// let pods = factory.informer(for: Pod.self)
/// pods.addEventHandler(ResourceEventHandler(onAdd: { pod, _ in queue.add(pod.key) }))
/// factory.start()
/// guard await factory.waitForCacheSync() else { return }
/// ```
public final class SharedInformerFactory: Sendable {
    private struct Key: Hashable, Sendable {
        var type: ObjectIdentifier
        var scope: ListScope
    }

    private struct Entry: Sendable {
        var informer: any FactoryInformer
        var task: Task<Void, Never>?
    }

    private struct State: Sendable {
        var entries: [Key: Entry] = [:]
        var shutDown = false
    }

    public let client: RESTClient
    /// The scope informers get when the caller names none.
    public let defaultScope: ListScope
    /// The resync period of every informer the factory makes.
    public let resyncPeriod: Duration?
    /// Applied to every object of every informer the factory makes before it is cached (client-go's
    /// `WithTransform`).
    public let transform: (any InformerTransform)?
    let time: any TimeSource
    let logger: Logger
    private let state = NIOLockedValueBox(State())

    /// A factory whose informers watch `defaultScope` (all namespaces unless narrowed) through `client`.
    public init(
        client: RESTClient, defaultScope: ListScope = .all, resyncPeriod: Duration? = nil,
        time: any TimeSource = SystemTime(), logger: Logger = Logger(label: "kubeswift.informer"),
        transform: (any InformerTransform)? = nil
    ) {
        self.client = client
        self.defaultScope = defaultScope
        self.resyncPeriod = resyncPeriod
        self.time = time
        self.logger = logger
        self.transform = transform
    }

    /// The shared informer for `type` in `scope` (the factory's default scope when nil), made on first use.
    /// Informers made after `start()` run once `start()` is called again.
    public func informer<Object: KubernetesObject>(for type: Object.Type, scope: ListScope? = nil)
        -> SharedIndexInformer<Object>
    {
        let key = Key(type: ObjectIdentifier(type), scope: scope ?? defaultScope)
        return state.withLockedValue { state in
            if let existing = state.entries[key]?.informer as? SharedIndexInformer<Object> { return existing }
            let informer = SharedIndexInformer<Object>(
                client: client, scope: key.scope, resyncPeriod: resyncPeriod, time: time, logger: logger,
                transform: transform)
            state.entries[key] = Entry(informer: informer)
            return informer
        }
    }

    /// The informer already made for `resource` in the default scope, seen as objects' metadata: what the
    /// garbage collector reads of a kind the controllers already cache, instead of a second (metadata) copy of
    /// every object, as upstream's collector takes the typed shared informer where one exists. Nil when no
    /// consumer asked for that kind.
    public func existingMetadataInformer(for resource: ResourceDescriptor) -> (any MetadataInformer)? {
        state.withLockedValue { state in
            state.entries.first { key, entry in
                key.scope == defaultScope && entry.informer.objectResource == resource
            }?.value.informer
        }
    }

    /// The lister over the shared informer for `type` in `scope`.
    public func lister<Object: KubernetesObject>(for type: Object.Type, scope: ListScope? = nil) -> Lister<Object> {
        informer(for: type, scope: scope).lister
    }

    /// Starts every informer not yet running.
    public func start() {
        state.withLockedValue { state in
            guard !state.shutDown else { return }
            for (key, entry) in state.entries where entry.task == nil {
                let informer = entry.informer
                state.entries[key]?.task = Task { await informer.run() }
            }
        }
    }

    /// Waits until every started informer has synced; false if the task is cancelled or the factory shuts down
    /// first.
    public func waitForCacheSync() async -> Bool {
        let started = state.withLockedValue { state in state.entries.values.filter { $0.task != nil }.map(\.informer) }
        for informer in started {
            guard await informer.waitForSync() else { return false }
        }
        return true
    }

    /// Stops every informer and returns once they have stopped; the factory starts nothing afterwards.
    public func shutdown() async {
        let tasks = state.withLockedValue { state in
            state.shutDown = true
            return state.entries.values.compactMap(\.task)
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}

/// What an informer does to each object before caching it, for every kind alike: a generic method rather than a
/// closure, so one value serves a whole factory.
public protocol InformerTransform: Sendable {
    func transform<Object: KubernetesObject>(_ object: Object) -> Object
    /// Whether the transform empties `metadata.managedFields`, so the informer's watches need not build them.
    var dropsManagedFields: Bool { get }
}

extension InformerTransform {
    public var dropsManagedFields: Bool { false }
}

/// Drops `metadata.managedFields`, which no controller reads and which can be most of a small object's size.
public struct StripManagedFields: InformerTransform {
    public init() {}

    public var dropsManagedFields: Bool { true }

    public func transform<Object: KubernetesObject>(_ object: Object) -> Object {
        guard !object.metadata.managedFields.isEmpty else { return object }
        var stripped = object
        stripped.metadata.managedFields = []
        return stripped
    }
}

/// What the factory needs of an informer whatever its kind.
protocol FactoryInformer: MetadataInformer {
    func run() async
}

extension SharedIndexInformer: FactoryInformer {}

/// Any informer's changes as `PartialObjectMetadata` (the type from the informer's resource, the object's
/// metadata), for consumers that read only metadata of whatever kind.
public protocol MetadataInformer: Sendable {
    /// The resource the informer lists and watches.
    var objectResource: ResourceDescriptor { get }
    /// Returns true once the informer has synced; false if the task is cancelled or the informer stops first.
    func waitForSync() async -> Bool
    /// Registers `handler`, which receives each change as its object's metadata.
    @discardableResult
    func addMetadataEventHandler(_ handler: ResourceEventHandler<PartialObjectMetadata>) -> HandlerRegistration
    /// Stops feeding a handler `addMetadataEventHandler` registered.
    func removeEventHandler(_ registration: HandlerRegistration)
}

extension SharedIndexInformer: MetadataInformer {
    public var objectResource: ResourceDescriptor { Object.resource }

    public func addMetadataEventHandler(_ handler: ResourceEventHandler<PartialObjectMetadata>)
        -> HandlerRegistration
    {
        addEventHandler(
            ResourceEventHandler(
                onAdd: { object, initial in await handler.onAdd(Self.metadata(object), initial) },
                onUpdate: { old, new in await handler.onUpdate(Self.metadata(old), Self.metadata(new)) },
                onDelete: { event in
                    switch event {
                    case .deleted(let object): await handler.onDelete(.deleted(Self.metadata(object)))
                    case .tombstone(let key, let object):
                        await handler.onDelete(.tombstone(key: key, lastKnown: Self.metadata(object)))
                    }
                }))
    }

    private static func metadata(_ object: Object) -> PartialObjectMetadata {
        PartialObjectMetadata(
            apiVersion: Object.resource.apiVersion, kind: Object.resource.kind, metadata: object.metadata)
    }
}

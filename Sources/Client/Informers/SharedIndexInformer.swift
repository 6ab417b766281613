public import Logging
import NIOConcurrencyHelpers

/// client-go's shared index informer: one reflector keeps an `Indexer` equal to the server's collection and
/// every change is handed to each registered `ResourceEventHandler`, in order, through its own buffer.
///
/// A handler added after the informer started first receives an add for every cached object. A relist that
/// finds an object gone reports it as a `DeleteEvent.tombstone`. Watch events are applied in the order the
/// server sent them, whatever their resourceVersions. Run it with `run()` (cancel the task to stop), or through
/// a `SharedInformerFactory`.
public final class SharedIndexInformer<Object: KubernetesObject>: Sendable {
    private struct State: Sendable {
        var listeners: [UInt64: ProcessorListener<Object>] = [:]
        var nextID: UInt64 = 0
        var synced = false
        var syncWaiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
        var running = false
        var stopped = false
    }

    /// The cache the informer keeps; read it through `lister`.
    public let indexer: Indexer<Object>
    /// Each handler gets an update (old == new) for every cached object this often; nil for never.
    public let resyncPeriod: Duration?
    let time: any TimeSource
    private let reflector: Reflector<Object>
    private let state = NIOLockedValueBox(State())

    /// An informer over `listWatch`, with `indexers` beside the namespace index. `transform`, when given, is
    /// applied to every listed or watched object before it is cached or handed to a handler, as client-go's
    /// `SetTransform` (dropping `managedFields`, say, to keep a large cache small).
    public init(
        listWatch: any ListWatch<Object>, resyncPeriod: Duration? = nil,
        indexers: [String: Indexer<Object>.IndexFunction] = [:], time: any TimeSource = SystemTime(),
        logger: Logger = Logger(label: "kubeswift.informer"),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        transform: (any InformerTransform)? = nil
    ) {
        let indexer = Indexer<Object>(indexers: indexers)
        self.indexer = indexer
        self.resyncPeriod = resyncPeriod
        self.time = time
        reflector = Reflector(
            listWatch: listWatch, store: InformerStore(indexer: indexer, state: self.state, transform: transform),
            time: time, logger: logger, random: random)
    }

    /// An informer over the API server's `Object`s in `scope`.
    public convenience init(
        client: RESTClient, scope: ListScope = .all, resyncPeriod: Duration? = nil,
        indexers: [String: Indexer<Object>.IndexFunction] = [:], time: any TimeSource = SystemTime(),
        logger: Logger = Logger(label: "kubeswift.informer"), transform: (any InformerTransform)? = nil
    ) {
        self.init(
            listWatch: RESTListWatch<Object>(
                client: client, scope: scope, logger: logger, dropsManagedFields: transform?.dropsManagedFields ?? false
            ),
            resyncPeriod: resyncPeriod,
            indexers: indexers, time: time, logger: logger, transform: transform)
    }

    /// A read-only view of the cache.
    public var lister: Lister<Object> { Lister(indexer: indexer) }

    /// Whether the first complete list is in the cache (and queued to the handlers).
    public var hasSynced: Bool { state.withLockedValue { $0.synced } }

    /// The newest resourceVersion the cache reflects.
    public var lastSyncResourceVersion: String { reflector.lastSyncResourceVersion }

    /// How often the informer listed and watched.
    public var statistics: Reflector<Object>.Statistics { reflector.statistics }

    /// Registers `handler`; if the informer already has objects, the handler first gets an add for each.
    @discardableResult
    public func addEventHandler(_ handler: ResourceEventHandler<Object>) -> HandlerRegistration {
        let listener = ProcessorListener(handler: handler)
        return state.withLockedValue { state in
            state.nextID += 1
            if state.stopped {
                listener.stop()
            } else {
                // Under the informer's lock, so no change slips between the snapshot and the registration.
                for object in indexer.listCached().sorted(by: { $0.value.key < $1.value.key }) {
                    listener.send(.add(object, isInInitialList: true))
                }
                if state.synced { listener.send(.synced) }
                state.listeners[state.nextID] = listener
            }
            return HandlerRegistration(id: state.nextID, synced: listener.synced)
        }
    }

    /// Stops feeding the handler; notifications it has not handled yet are dropped.
    public func removeEventHandler(_ registration: HandlerRegistration) {
        state.withLockedValue { $0.listeners.removeValue(forKey: registration.id) }?.stop()
    }

    /// Returns true once the informer has synced, or false if the task is cancelled or the informer stops first.
    public func waitForSync() async -> Bool {
        let id = state.withLockedValue { state in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let answer: Bool? = state.withLockedValue { state in
                    if state.synced { return true }
                    if state.stopped || Task.isCancelled { return false }
                    state.syncWaiters[id] = continuation
                    return nil
                }
                if let answer { continuation.resume(returning: answer) }
            }
        } onCancel: {
            state.withLockedValue { $0.syncWaiters.removeValue(forKey: id) }?.resume(returning: false)
        }
    }

    /// Lists, watches, resyncs and feeds the handlers until the calling task is cancelled; then stops the
    /// handlers. An informer runs once.
    public func run() async {
        let first = state.withLockedValue { state in
            defer { state.running = true }
            return !state.running && !state.stopped
        }
        guard first else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.reflector.run() }
            if let resyncPeriod, resyncPeriod > .zero {
                group.addTask { await self.resyncLoop(every: resyncPeriod) }
            }
            await group.waitForAll()
        }
        let (listeners, waiters) = state.withLockedValue { state in
            state.stopped = true
            defer {
                state.listeners = [:]
                state.syncWaiters = [:]
            }
            return (Array(state.listeners.values), Array(state.syncWaiters.values))
        }
        for listener in listeners { listener.stop() }
        for waiter in waiters { waiter.resume(returning: false) }
    }

    private func resyncLoop(every period: Duration) async {
        while (try? await time.sleep(for: period)) != nil {
            state.withLockedValue { state in
                guard state.synced else { return }
                for object in indexer.listCached().sorted(by: { $0.value.key < $1.value.key }) {
                    for listener in state.listeners.values { listener.send(.update(old: object, new: object)) }
                }
            }
        }
    }

    /// The reflector's store: changes the indexer and tells the handlers under the informer's lock, so handlers
    /// see changes in the order the cache took them.
    private struct InformerStore: ReflectorStore {
        let indexer: Indexer<Object>
        let state: NIOLockedValueBox<State>
        let transform: (any InformerTransform)?

        func replace(_ listed: [Object], resourceVersion: String) {
            let objects = listed.map { CachedObject(transform?.transform($0) ?? $0) }
            let waiters: [CheckedContinuation<Bool, Never>] = state.withLockedValue { state in
                let initial = !state.synced
                let old = indexer.replace(objects)
                var notifications: [Notification<Object>] = []
                notifications.reserveCapacity(objects.count + 1)
                var listed = Set<ObjectKey>()
                for object in objects {
                    let key = object.value.key
                    listed.insert(key)
                    if let previous = old[key] {
                        notifications.append(.update(old: previous, new: object))
                    } else {
                        notifications.append(.add(object, isInInitialList: initial))
                    }
                }
                for (key, lastKnown) in old.sorted(by: { $0.key < $1.key }) where !listed.contains(key) {
                    notifications.append(.tombstone(key: key, lastKnown: lastKnown))
                }
                if initial { notifications.append(.synced) }
                Self.send(notifications, to: state.listeners.values)
                state.synced = true
                defer { state.syncWaiters = [:] }
                return Array(state.syncWaiters.values)
            }
            for waiter in waiters { waiter.resume(returning: true) }
        }

        func add(_ object: Object) { upsert(transform?.transform(object) ?? object) }

        func update(_ object: Object) { upsert(transform?.transform(object) ?? object) }

        func delete(_ deleted: Object) {
            let object = CachedObject(transform?.transform(deleted) ?? deleted)
            state.withLockedValue { state in
                _ = indexer.removeCached(object.value.key)
                Self.send([.deleted(object)], to: state.listeners.values)
            }
        }

        /// ADDED for a cached key is an update and MODIFIED for an unknown one an add, as upstream decides by
        /// what the cache holds rather than by the event's type.
        private func upsert(_ changed: Object) {
            let object = CachedObject(changed)
            state.withLockedValue { state in
                let notification: Notification<Object> =
                    if let old = indexer.upsert(object) {
                        .update(old: old, new: object)
                    } else {
                        .add(object, isInInitialList: false)
                    }
                Self.send([notification], to: state.listeners.values)
            }
        }

        private static func send(
            _ notifications: [Notification<Object>], to listeners: some Collection<ProcessorListener<Object>>
        ) {
            for listener in listeners {
                for notification in notifications { listener.send(notification) }
            }
        }
    }
}

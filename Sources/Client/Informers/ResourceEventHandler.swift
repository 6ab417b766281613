import NIOConcurrencyHelpers

/// How an object left the cache.
public enum DeleteEvent<Object: KubernetesObject>: Sendable {
    /// A watch reported the deletion; the object is its final state.
    case deleted(Object)
    /// A relist found the object gone: the deletion itself was missed, so `lastKnown` is the state the cache
    /// held, possibly stale (upstream's `DeletedFinalStateUnknown`).
    case tombstone(key: ObjectKey, lastKnown: Object)

    /// The deleted object, or the last state the cache knew.
    public var object: Object {
        switch self {
        case .deleted(let object), .tombstone(_, let object): return object
        }
    }

    /// Where the object lived.
    public var key: ObjectKey {
        switch self {
        case .deleted(let object): return object.key
        case .tombstone(let key, _): return key
        }
    }
}

/// Callbacks for an informer's changes, as client-go's `ResourceEventHandlerFuncs`. Each handler is called from
/// its own task, one notification at a time, in the order the informer saw the changes.
public struct ResourceEventHandler<Object: KubernetesObject>: Sendable {
    /// A new object; `isInInitialList` is true for the objects of the informer's first list (and for the
    /// synthetic adds a handler registered later receives).
    public var onAdd: @Sendable (_ object: Object, _ isInInitialList: Bool) async -> Void
    /// A changed object; `old` and `new` are equal on a resync.
    public var onUpdate: @Sendable (_ old: Object, _ new: Object) async -> Void
    public var onDelete: @Sendable (_ event: DeleteEvent<Object>) async -> Void

    public init(
        onAdd: @escaping @Sendable (_ object: Object, _ isInInitialList: Bool) async -> Void = { _, _ in },
        onUpdate: @escaping @Sendable (_ old: Object, _ new: Object) async -> Void = { _, _ in },
        onDelete: @escaping @Sendable (_ event: DeleteEvent<Object>) async -> Void = { _ in }
    ) {
        self.onAdd = onAdd
        self.onUpdate = onUpdate
        self.onDelete = onDelete
    }
}

/// What an informer hands one handler: the cache's shared boxes, so a backlog of notifications (and the buffer
/// capacity it leaves behind) costs pointers, not copies of the objects.
enum Notification<Object: KubernetesObject>: Sendable {
    case add(CachedObject<Object>, isInInitialList: Bool)
    case update(old: CachedObject<Object>, new: CachedObject<Object>)
    case deleted(CachedObject<Object>)
    case tombstone(key: ObjectKey, lastKnown: CachedObject<Object>)
    /// Everything of the informer's first list (or, for a late handler, of the cache) is before this.
    case synced
}

/// Identifies a handler added to an informer, to ask whether it has caught up or to remove it again.
public struct HandlerRegistration: Sendable, Hashable {
    let id: UInt64
    let synced: NIOLockedValueBox<Bool>

    /// Whether the handler has handled every object of the informer's first list (or, if it was added later,
    /// the cache's contents then), as upstream's `ResourceEventHandlerRegistration.HasSynced`.
    public var hasSynced: Bool { synced.withLockedValue { $0 } }

    public static func == (lhs: HandlerRegistration, rhs: HandlerRegistration) -> Bool { lhs.id == rhs.id }

    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}

/// upstream's `processorListener`: an unbounded buffer and a task that feeds one handler in order, so a slow
/// handler delays only itself, never the informer or the other handlers.
final class ProcessorListener<Object: KubernetesObject>: Sendable {
    private let continuation: AsyncStream<Notification<Object>>.Continuation
    private let task: Task<Void, Never>

    /// Set once the handler has handled the `.synced` marker.
    let synced = NIOLockedValueBox(false)

    init(handler: ResourceEventHandler<Object>) {
        let (notifications, continuation) = AsyncStream.makeStream(
            of: Notification<Object>.self, bufferingPolicy: .unbounded)
        self.continuation = continuation
        let synced = self.synced
        task = Task {
            for await notification in notifications {
                switch notification {
                case .add(let object, let isInInitialList): await handler.onAdd(object.value, isInInitialList)
                case .update(let old, let new): await handler.onUpdate(old.value, new.value)
                case .deleted(let object): await handler.onDelete(.deleted(object.value))
                case .tombstone(let key, let lastKnown):
                    await handler.onDelete(.tombstone(key: key, lastKnown: lastKnown.value))
                case .synced: synced.withLockedValue { $0 = true }
                }
            }
        }
    }

    func send(_ notification: Notification<Object>) {
        continuation.yield(notification)
    }

    deinit {
        // A listener dropped without `stop()` must not leave its task waiting on the stream forever.
        continuation.finish()
    }

    /// Stops at once: notifications not yet handled are dropped.
    func stop() {
        continuation.finish()
        task.cancel()
    }
}

import NIOConcurrencyHelpers

/// Data that plugins hand from one extension point to a later one within one pod's scheduling cycle
/// (PreFilter → Filter, PreScore → Score), keyed by type so two plugins cannot collide.
public final class CycleState: Sendable {
    private let storage = NIOLockedValueBox<[ObjectIdentifier: any Sendable]>([:])

    public init() {}

    /// Stores `value` under its type; a plugin keeps one value of a type of its own.
    public func write<T: Sendable>(_ value: T) {
        storage.withLockedValue { $0[ObjectIdentifier(T.self)] = value }
    }

    /// The value of type `T` stored earlier in this cycle, if any.
    public func read<T: Sendable>(_ type: T.Type = T.self) -> T? {
        storage.withLockedValue { $0[ObjectIdentifier(T.self)] as? T }
    }

    /// Forgets the value of type `T`, so it is not kept alive longer than the points that read it.
    public func remove<T: Sendable>(_ type: T.Type) {
        storage.withLockedValue { _ = $0.removeValue(forKey: ObjectIdentifier(T.self)) }
    }

    /// A copy for evaluating "what if" (preemption removes victims in a copy, never in the real cycle).
    public func clone() -> CycleState {
        let copy = CycleState()
        let values = storage.withLockedValue { $0 }
        copy.storage.withLockedValue { $0 = values }
        return copy
    }
}

/// Every node of the snapshot, recorded at PreFilter by the plugins whose scoring counts pods on nodes that
/// were filtered out too (they are in the same domains). The loop removes it before binding, so a binding in
/// flight never keeps the cycle's node list alive.
struct AllNodes: Sendable {
    var nodes: [NodeInfo]
}

import Synchronization

/// Data that plugins hand from one extension point to a later one within one pod's scheduling cycle
/// (PreFilter → Filter, PreScore → Score), keyed by type so two plugins cannot collide.
///
/// Filter and Score read it once per node, on every worker at once. While the framework runs them it makes the
/// state read-only (`readingOnly`), as upstream's contract says they only read: reads then take no lock and
/// touch no reference count, so two workers never write to the same cache line. Writing then is a plugin bug
/// and stops the process.
public final class CycleState: Sendable {
    /// An immutable value; a write replaces the box, so a box handed out is never changed under its reader.
    private final class Box<T: Sendable>: Sendable {
        let value: T
        init(_ value: T) { self.value = value }
    }

    private let values = Mutex<[ObjectIdentifier: any AnyObject & Sendable]>([:])
    private let readOnly = Atomic<Bool>(false)
    /// The boxes while read-only: set before `readOnly` is raised and cleared after it is lowered, and owned by
    /// `values` meanwhile (which no write can change), so the unretained references stay valid.
    @exclusivity(unchecked) nonisolated(unsafe) private var frozen: [(ObjectIdentifier, Unmanaged<AnyObject>)] = []

    public init() {}

    /// Stores `value` under its type; a plugin keeps one value of a type of its own.
    public func write<T: Sendable>(_ value: T) {
        precondition(!readOnly.load(ordering: .relaxed), "CycleState written while Filter or Score run")
        let box = Box(value)
        values.withLock { $0[ObjectIdentifier(T.self)] = box }
    }

    /// Runs `body` on the value of type `T` stored earlier in this cycle, in place (its fields are not copied);
    /// nil when there is none. What Filter and Score use per node.
    public func read<T: Sendable, R>(_ type: T.Type, _ body: (borrowing T) -> R) -> R? {
        let key = ObjectIdentifier(T.self)
        if readOnly.load(ordering: .acquiring) {
            for (stored, box) in frozen where stored == key {
                return box._withUnsafeGuaranteedRef { body(unsafeDowncast($0, to: Box<T>.self).value) }
            }
            return nil
        }
        guard let box = values.withLock({ $0[key] }) else { return nil }
        return body(unsafeDowncast(box, to: Box<T>.self).value)
    }

    /// A copy of the value of type `T` stored earlier in this cycle, if any.
    public func read<T: Sendable>(_ type: T.Type = T.self) -> T? {
        read(type) { copy $0 }
    }

    /// Forgets the value of type `T`, so it is not kept alive longer than the points that read it.
    public func remove<T: Sendable>(_ type: T.Type) {
        precondition(!readOnly.load(ordering: .relaxed), "CycleState written while Filter or Score run")
        _ = values.withLock { $0.removeValue(forKey: ObjectIdentifier(T.self)) }
    }

    /// Runs `body` (the framework's parallel Filter or Score pass) with the state read-only. Called by the one
    /// thread that runs the cycle; the workers `body` starts have finished when it returns.
    func readingOnly<R>(_ body: () -> R) -> R {
        frozen = values.withLock { values in values.map { ($0.key, Unmanaged.passUnretained($0.value as AnyObject)) } }
        readOnly.store(true, ordering: .releasing)
        defer {
            readOnly.store(false, ordering: .releasing)
            frozen = []
        }
        return body()
    }

    /// A copy for evaluating "what if" (preemption removes victims in a copy, never in the real cycle).
    public func clone() -> CycleState {
        let copy = CycleState()
        let values = values.withLock { $0 }
        copy.values.withLock { $0 = values }
        return copy
    }
}

/// Every node of the snapshot, recorded at PreFilter by the plugins whose scoring counts pods on nodes that
/// were filtered out too (they are in the same domains). The loop removes it before binding, so a binding in
/// flight never keeps the cycle's node list alive.
struct AllNodes: Sendable {
    var nodes: [NodeInfo]
}

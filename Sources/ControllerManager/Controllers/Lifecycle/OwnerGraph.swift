import Client

/// One change the graph takes in, in the order the monitors saw them (upstream's `graphChanges` queue).
enum GraphEvent: Sendable, Hashable {
    case added(ObservedObject)
    case updated(old: ObservedObject?, new: ObservedObject)
    case deleted(ObservedObject)
    /// A worker found `identity` absent on the server: the graph forgets a virtual node it holds for it.
    case virtualDelete(ObjectIdentity)
}

/// The owner graph's bookkeeping, upstream's `GraphBuilder.processGraphChanges` as a pure state machine: each
/// event updates the nodes and returns what the workers must look at.
struct OwnerGraph: Sendable {
    /// One object, observed through a monitor or known only as some object's owner (virtual).
    struct Node: Sendable, Hashable {
        var identity: ObjectIdentity
        var owners: [OwnerReference] = []
        var dependents: Set<UID> = []
        /// Known only from a dependent's owner reference, not yet seen by a monitor.
        var virtual = false
        var beingDeleted = false
        /// Being deleted with the `foregroundDeletion` finalizer: its dependents go first.
        var deletingDependents = false
    }

    /// What a worker must do after an event.
    enum Action: Sendable, Hashable {
        case attemptToDelete(UID)
        /// Upstream re-adds a replacement virtual node rate limited.
        case attemptToDeleteRateLimited(UID)
        case attemptToOrphan(UID)
        /// `dependent` names `owner` (the reference's coordinates in the dependent's namespace), an object
        /// observed in another namespace: upstream's `OwnerRefInvalidNamespace` Warning.
        case invalidNamespaceOwnerReference(dependent: ObjectIdentity, owner: ObjectIdentity)
    }

    private(set) var nodes: [UID: Node] = [:]
    /// Owners verified absent, so a dependent's next check needs no GET (upstream's `absentOwnerCache`).
    var absentOwners = AbsentOwnerCache(capacity: 500)

    subscript(uid: UID) -> Node? { nodes[uid] }

    /// Applies `event`; returns the work it makes, in order.
    mutating func process(_ event: GraphEvent) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .added(let object): upsert(object, old: nil, actions: &actions)
        case .updated(let old, let new): upsert(new, old: old, actions: &actions)
        case .deleted(let object): delete(object.identity, virtual: false, actions: &actions)
        case .virtualDelete(let identity): delete(identity, virtual: true, actions: &actions)
        }
        return actions
    }

    private mutating func upsert(_ object: ObservedObject, old: ObservedObject?, actions: inout [Action]) {
        let uid = object.identity.uid
        if var existing = nodes[uid], existing.virtual {
            // First sight of an object known so far only from its dependents' references.
            if existing.identity != object.identity {
                let (_, mismatched) = partition(existing.dependents, by: object.identity)
                for dependent in mismatched {
                    if let node = nodes[dependent], !object.identity.namespace.isEmpty,
                        node.identity.namespace != object.identity.namespace,
                        let action = Self.invalidNamespace(node, ownerUID: uid)
                    {
                        actions.append(action)
                    }
                    actions.append(.attemptToDelete(dependent))
                }
                existing.identity = object.identity
            }
            existing.virtual = false
            nodes[uid] = existing
        }
        guard var node = nodes[uid] else {
            let node = Node(
                identity: object.identity, owners: object.owners,
                beingDeleted: object.beingDeleted,
                deletingDependents: object.deleting(with: GCFinalizer.deleteDependents))
            nodes[uid] = node
            addDependent(uid, to: object.owners, actions: &actions)
            processTransitions(old: old, new: object, uid: uid, actions: &actions)
            return
        }
        let diff = ReferenceDiff(old: node.owners, new: object.owners)
        if !diff.isEmpty {
            addUnblockedOwners(diff, actions: &actions)
            node.owners = object.owners
            nodes[uid] = node
            addDependent(uid, to: diff.added, actions: &actions)
            for owner in diff.removed { nodes[UID(owner.uid ?? "")]?.dependents.remove(uid) }
        }
        if object.beingDeleted { nodes[uid]?.beingDeleted = true }
        processTransitions(old: old, new: object, uid: uid, actions: &actions)
    }

    /// Links `dependent` under each of `owners`, making virtual nodes for owners not seen yet; a reference that
    /// may name its owner wrongly sends the dependent to be checked (upstream's `addDependentToOwners`).
    private mutating func addDependent(_ dependent: UID, to owners: [OwnerReference], actions: inout [Action]) {
        guard let node = nodes[dependent] else { return }
        var suspicious = false
        for reference in owners {
            let ownerUID = UID(reference.uid ?? "")
            guard nodes[ownerUID] != nil else {
                var virtual = Node(identity: ObjectIdentity(reference: reference, namespace: node.identity.namespace))
                virtual.virtual = true
                virtual.dependents = [dependent]
                nodes[ownerUID] = virtual
                // A worker asks the server whether it exists and drops it from the graph if not.
                actions.append(.attemptToDelete(ownerUID))
                continue
            }
            // In place: through a copy of the node, each insert would copy the owner's whole dependents set,
            // quadratic in a ReplicaSet's pods.
            nodes[ownerUID]?.dependents.insert(dependent)
            guard !suspicious, let owner = nodes[ownerUID] else { continue }
            let ownerNamespaced = !owner.identity.namespace.isEmpty
            if ownerNamespaced, owner.identity.namespace != node.identity.namespace {
                if !owner.virtual, let action = Self.invalidNamespace(node, ownerUID: ownerUID) {
                    actions.append(action)
                }
                suspicious = true
            } else if !owner.identity.matches(reference) {
                suspicious = true
            } else if !ownerNamespaced, owner.identity.namespace != node.identity.namespace, owner.virtual {
                // A cluster-scoped child naming a virtual owner from a namespace may name a namespaced kind.
                suspicious = true
            }
        }
        if suspicious { actions.append(.attemptToDelete(dependent)) }
    }

    /// The Warning for `dependent`'s reference to `ownerUID`, an owner observed in another namespace: the
    /// reference's coordinates in the dependent's namespace, where the owner does not exist.
    private static func invalidNamespace(_ dependent: Node, ownerUID: UID) -> Action? {
        guard let reference = dependent.owners.first(where: { $0.uid == ownerUID.rawValue }) else { return nil }
        return .invalidNamespaceOwnerReference(
            dependent: dependent.identity,
            owner: ObjectIdentity(reference: reference, namespace: dependent.identity.namespace))
    }

    /// Owners that a removed or now non-blocking reference stopped holding up get another look.
    private func addUnblockedOwners(_ diff: ReferenceDiff, actions: inout [Action]) {
        var unblocked = diff.removed.filter { $0.blockOwnerDeletion == true }
        unblocked += diff.changed.filter { $0.old.blockOwnerDeletion == true && $0.new.blockOwnerDeletion != true }
            .map(\.new)
        for reference in unblocked {
            let uid = UID(reference.uid ?? "")
            if nodes[uid] != nil { actions.append(.attemptToDelete(uid)) }
        }
    }

    /// Starts orphaning or foreground deletion when an object just began deleting with that finalizer.
    private mutating func processTransitions(
        old: ObservedObject?, new: ObservedObject, uid: UID, actions: inout [Action]
    ) {
        if Self.starts(deletingWith: GCFinalizer.orphanDependents, old: old, new: new) {
            actions.append(.attemptToOrphan(uid))
            return
        }
        if Self.starts(deletingWith: GCFinalizer.deleteDependents, old: old, new: new) {
            nodes[uid]?.deletingDependents = true
            for dependent in (nodes[uid]?.dependents ?? []).sorted() { actions.append(.attemptToDelete(dependent)) }
            actions.append(.attemptToDelete(uid))
        }
    }

    private static func starts(deletingWith finalizer: String, old: ObservedObject?, new: ObservedObject) -> Bool {
        guard new.deleting(with: finalizer) else { return false }
        guard let old else { return true }
        return !old.deleting(with: finalizer)
    }

    private mutating func delete(_ identity: ObjectIdentity, virtual: Bool, actions: inout [Action]) {
        guard let existing = nodes[identity.uid] else { return }
        if virtual {
            let (matching, mismatched) = partition(existing.dependents, by: identity)
            if existing.virtual, !mismatched.isEmpty {
                // Some dependents name this uid by other coordinates: keep the node for them.
                if !matching.isEmpty {
                    absentOwners.add(identity)
                    actions += matching.map { .attemptToDelete($0) }
                }
                if existing.identity == identity, let replacement = alternateIdentity(mismatched, absent: identity) {
                    nodes[identity.uid]?.identity = replacement
                    actions.append(.attemptToDeleteRateLimited(identity.uid))
                }
                return
            }
            if !existing.virtual, existing.identity != identity {
                // A real node outlives a virtual delete for other coordinates of its uid.
                if !matching.isEmpty {
                    absentOwners.add(identity)
                    actions += matching.map { .attemptToDelete($0) }
                }
                return
            }
        }
        nodes[identity.uid] = nil
        for owner in existing.owners { nodes[UID(owner.uid ?? "")]?.dependents.remove(identity.uid) }
        if !existing.dependents.isEmpty { absentOwners.add(identity) }
        actions += existing.dependents.sorted().map { .attemptToDelete($0) }
        for owner in existing.owners {
            let uid = UID(owner.uid ?? "")
            // An owner deleting its dependents in the foreground may now be done.
            if nodes[uid]?.deletingDependents == true { actions.append(.attemptToDelete(uid)) }
        }
    }

    /// Splits `dependents` into those whose reference to `owner.uid` matches `owner`'s coordinates and those
    /// with one that does not (a dependent may be in both); upstream's `partitionDependents`.
    func partition(_ dependents: Set<UID>, by owner: ObjectIdentity) -> (matching: [UID], mismatched: [UID]) {
        var matching: [UID] = []
        var mismatched: [UID] = []
        for uid in dependents.sorted() {
            guard let dependent = nodes[uid] else { continue }
            if !owner.namespace.isEmpty, owner.namespace != dependent.identity.namespace {
                mismatched.append(uid)
                continue
            }
            let references = dependent.owners.filter { $0.uid == owner.uid.rawValue }
            if references.contains(where: owner.matches) { matching.append(uid) }
            if references.contains(where: { !owner.matches($0) }) { mismatched.append(uid) }
        }
        return (matching, mismatched)
    }

    /// Another identity `dependents` give the absent owner's uid: the first sorting after `absent`, else the
    /// first found (upstream's `getAlternateOwnerIdentity`), so retries walk through every candidate.
    private func alternateIdentity(_ dependents: [UID], absent: ObjectIdentity) -> ObjectIdentity? {
        let clusterScoped = absent.namespace.isEmpty
        var seen: Set<ObjectIdentity> = [absent]
        var first: ObjectIdentity?
        var firstAfter: ObjectIdentity?
        for uid in dependents {
            guard let dependent = nodes[uid] else { continue }
            for reference in dependent.owners where reference.uid == absent.uid.rawValue {
                if absent.matches(reference), clusterScoped || absent.namespace == dependent.identity.namespace {
                    continue
                }
                var candidate = ObjectIdentity(reference: reference, namespace: dependent.identity.namespace)
                if clusterScoped, candidate.apiVersion == absent.apiVersion, candidate.kind == absent.kind {
                    candidate.namespace = ""
                }
                guard seen.insert(candidate).inserted else { continue }
                if first == nil { first = candidate }
                if firstAfter == nil, absent < candidate { firstAfter = candidate }
            }
        }
        return firstAfter ?? first
    }

    // MARK: reads for the workers

    /// The dependents of `uid` whose reference to it blocks its deletion.
    func blockingDependents(of uid: UID) -> [Node] {
        guard let node = nodes[uid] else { return [] }
        return node.dependents.sorted().compactMap { nodes[$0] }.filter { dependent in
            dependent.owners.contains { $0.uid == uid.rawValue && $0.blockOwnerDeletion == true }
        }
    }

    /// The dependents of `uid`.
    func dependents(of uid: UID) -> [Node] {
        (nodes[uid]?.dependents ?? []).sorted().compactMap { nodes[$0] }
    }
}

/// How an object's owner references changed between two observations.
struct ReferenceDiff: Sendable {
    var added: [OwnerReference] = []
    var removed: [OwnerReference] = []
    var changed: [(old: OwnerReference, new: OwnerReference)] = []

    init(old: [OwnerReference], new: [OwnerReference]) {
        let oldByUID = Dictionary(old.map { ($0.uid ?? "", $0) }, uniquingKeysWith: { first, _ in first })
        let newUIDs = Set(new.map { $0.uid ?? "" })
        for reference in new {
            if let previous = oldByUID[reference.uid ?? ""] {
                if previous != reference { changed.append((previous, reference)) }
            } else {
                added.append(reference)
            }
        }
        removed = old.filter { !newUIDs.contains($0.uid ?? "") }
    }

    var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }
}

/// A bounded set of identities verified absent, dropping the least recently used (upstream's LRU
/// `ReferenceCache`).
struct AbsentOwnerCache: Sendable {
    let capacity: Int
    private var stamps: [ObjectIdentity: UInt64] = [:]
    private var clock: UInt64 = 0

    init(capacity: Int) { self.capacity = capacity }

    mutating func add(_ identity: ObjectIdentity) {
        clock += 1
        stamps[identity] = clock
        if stamps.count > capacity, let oldest = stamps.min(by: { $0.value < $1.value })?.key {
            stamps[oldest] = nil
        }
    }

    /// Whether `identity` is cached, without refreshing it.
    func contains(_ identity: ObjectIdentity) -> Bool { stamps[identity] != nil }

    /// Whether `identity` is cached; a hit makes it the most recently used.
    mutating func hit(_ identity: ObjectIdentity) -> Bool {
        guard stamps[identity] != nil else { return false }
        clock += 1
        stamps[identity] = clock
        return true
    }

    var count: Int { stamps.count }
}

import Client

/// An object's unique id, the key of the owner graph.
struct UID: Sendable, Hashable, Comparable, CustomStringConvertible {
    let rawValue: String

    init(_ rawValue: String) { self.rawValue = rawValue }

    var description: String { rawValue }

    static func < (lhs: UID, rhs: UID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// An object's coordinates as an owner reference names it, plus the namespace to look it up in (upstream's
/// `objectReference`). A virtual owner gets its dependent's namespace, which a cluster-scoped kind ignores.
struct ObjectIdentity: Sendable, Hashable, Comparable, CustomStringConvertible {
    var apiVersion: String
    var kind: String
    var namespace: String
    var name: String
    var uid: UID

    /// The owner `reference` names, looked up in `namespace`.
    init(reference: OwnerReference, namespace: String) {
        apiVersion = reference.apiVersion ?? ""
        kind = reference.kind ?? ""
        name = reference.name ?? ""
        uid = UID(reference.uid ?? "")
        self.namespace = namespace
    }

    init(apiVersion: String, kind: String, namespace: String, name: String, uid: UID) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }

    /// Whether `reference` names this object by every coordinate it carries (upstream's
    /// `ownerReferenceMatchesCoordinates`).
    func matches(_ reference: OwnerReference) -> Bool {
        reference.uid == uid.rawValue && reference.name == name && reference.kind == kind
            && reference.apiVersion == apiVersion
    }

    /// Upstream's text for an identity in logs and events.
    var description: String {
        "[\(apiVersion)/\(kind), namespace: \(namespace), name: \(name), uid: \(uid)]"
    }

    static func < (lhs: ObjectIdentity, rhs: ObjectIdentity) -> Bool {
        (lhs.apiVersion, lhs.kind, lhs.namespace, lhs.name, lhs.uid.rawValue)
            < (rhs.apiVersion, rhs.kind, rhs.namespace, rhs.name, rhs.uid.rawValue)
    }
}

/// What the graph needs of an object a monitor observed.
struct ObservedObject: Sendable, Hashable {
    var identity: ObjectIdentity
    var owners: [OwnerReference]
    var finalizers: [String]
    var beingDeleted: Bool

    /// The object `metadata` describes, of the kind `apiVersion`/`kind` name.
    init(apiVersion: String, kind: String, metadata: ObjectMeta) {
        identity = ObjectIdentity(
            apiVersion: apiVersion, kind: kind, namespace: metadata.namespace ?? "", name: metadata.name ?? "",
            uid: UID(metadata.uid ?? ""))
        owners = metadata.ownerReferences
        finalizers = metadata.finalizers
        beingDeleted = metadata.deletionTimestamp != nil
    }

    init(identity: ObjectIdentity, owners: [OwnerReference] = [], finalizers: [String] = [], beingDeleted: Bool = false)
    {
        self.identity = identity
        self.owners = owners
        self.finalizers = finalizers
        self.beingDeleted = beingDeleted
    }

    /// Being deleted with `finalizer` still on it.
    func deleting(with finalizer: String) -> Bool { beingDeleted && finalizers.contains(finalizer) }
}

/// The finalizers the garbage collector acts on.
enum GCFinalizer {
    /// Delete the dependents first (`propagationPolicy: Foreground`).
    static let deleteDependents = "foregroundDeletion"
    /// Remove the owner reference from the dependents first (`propagationPolicy: Orphan`).
    static let orphanDependents = "orphan"
}

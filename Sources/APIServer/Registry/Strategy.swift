public import APIMachinery
import Schemas

/// What makes a kind different from every other kind; everything else (CRUD, watch, conflicts,
/// finalizers, dry-run, selectors, paging) is the generic `RegistryStore`'s.
///
/// Hook order on create: `prepareForCreate` → `applyDefaults` → `validate` → `beforeCreate` (allocations) → storage.
/// On update: `prepareForUpdate` → `applyDefaults` → `validateUpdate` → `beforeUpdate` → storage.
/// `validate` and `validateUpdate` must not mutate. Defaults for all of these are in the extension below,
/// so a plain kind only states its table columns. Every hook sees objects in the stored shape, also for a
/// version served through a `VersionConversion`.
public protocol Strategy: Sendable {
    /// Clears what a client may not set on create (status for kinds with a status subresource, for example).
    func prepareForCreate(_ object: inout JSON)
    /// `prepareForCreate` for kinds that record who asked (CertificateSigningRequests); the default ignores the user.
    func prepareForCreate(_ object: inout JSON, user: UserInfo?)
    /// Carries over what a main-resource update may not change (status), given the stored object.
    func prepareForUpdate(_ object: inout JSON, old: JSON)
    /// Carries over what a status update may not change (everything but status).
    func prepareForStatusUpdate(_ object: inout JSON, old: JSON)
    /// Carries over what an `approval` subresource update may not change (CertificateSigningRequests: all but
    /// `status.conditions`); the default changes nothing.
    func prepareForApprovalUpdate(_ object: inout JSON, old: JSON)
    /// Drops the fields the kind's schema does not have and returns their paths, for server-side field
    /// validation; the default asks the built-in schemas.
    func pruneUnknownFields(_ object: inout JSON, kind: GroupVersionKind) -> [String]
    /// Fills in defaulted fields.
    func applyDefaults(_ object: inout JSON)
    /// Checks a new object; `metadata` has been checked already.
    func validate(_ object: JSON) -> [FieldError]
    /// Checks an update against the stored object.
    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError]
    /// Checks the object's name (RFC 1123 subdomain unless the kind says otherwise).
    func validateName(_ name: String) -> [String]

    /// Side effects that must happen with the write, such as IP allocation; may throw an APIError.
    func beforeCreate(_ object: inout JSON, context: RegistryContext) async throws
    func beforeUpdate(_ object: inout JSON, old: JSON, context: RegistryContext) async throws
    /// Refuses a delete outright (the system namespaces, for example) by throwing an APIError.
    func checkDelete(_ object: JSON) throws
    /// Marks an object being deleted (phase, grace period) and says whether removal must wait for
    /// someone else (a kubelet, the namespace finalizer); finalizers on the object always make it wait.
    func prepareForDelete(_ object: inout JSON, gracePeriodSeconds: Int?) -> Bool
    /// Releases what `beforeCreate` allocated once the object is gone.
    func afterDelete(_ object: JSON, context: RegistryContext) async
    /// Whether an object being deleted whose finalizers are all gone may go now; a namespace also waits for
    /// its `spec.finalizers` (the namespace controller's `finalize`).
    func deletionMayComplete(_ object: JSON) -> Bool

    /// True when the kind has a status subresource that main-resource writes may not set; by default such a
    /// kind's `generation` is also `.spec`.
    var tracksGeneration: Bool { get }
    /// When `metadata.generation` is set and bumped: what the kind's upstream `PrepareForCreate` and
    /// `PrepareForUpdate` do with it, which is not always what its status subresource suggests.
    var generation: GenerationRule { get }
    /// True when an update of a missing object creates it (endpoints, leases).
    var allowCreateOnUpdate: Bool { get }
    /// True when objects expire `--event-ttl` after their last write (events), through a storage lease.
    var expiresWithEventTTL: Bool { get }

    /// The fields field selectors may name besides `metadata.name` and `metadata.namespace`.
    func selectableFields(_ object: JSON) -> [String: String]

    /// The table columns `kubectl get` prints and the cells of one row.
    var columns: [Table.Column] { get }
    func cells(_ object: JSON) -> [JSON]
    /// The propagation a delete that names none gets, when the object carries no garbage-collector finalizer
    /// (upstream's `DefaultGarbageCollectionPolicy`): nil for background; "Orphan" for ReplicationControllers.
    var defaultGarbageCollectionPolicy: String? { get }
}

extension Strategy {
    public func pruneUnknownFields(_ object: inout JSON, kind: GroupVersionKind) -> [String] {
        SchemaRegistry.shared.prune(&object, kind: kind)
    }

    public func prepareForCreate(_ object: inout JSON) {
        if object["status"] != nil, tracksGeneration { object["status"] = nil }
    }

    public func prepareForCreate(_ object: inout JSON, user: UserInfo?) { prepareForCreate(&object) }

    public func prepareForApprovalUpdate(_ object: inout JSON, old: JSON) {
        let resourceVersion = object["metadata"]?["resourceVersion"]
        object = old
        object.setMeta("resourceVersion", resourceVersion)
    }

    public func prepareForUpdate(_ object: inout JSON, old: JSON) {
        // Kinds with a status subresource ignore status in main-resource updates.
        if tracksGeneration { object["status"] = old["status"] }
    }

    public func prepareForStatusUpdate(_ object: inout JSON, old: JSON) {
        var updated = old
        updated["status"] = object["status"]
        // Status writers may still move labels and annotations, as upstream allows.
        updated.setMeta("labels", object["metadata"]?["labels"])
        updated.setMeta("annotations", object["metadata"]?["annotations"])
        updated.setMeta("resourceVersion", object["metadata"]?["resourceVersion"])
        object = updated
    }

    public func applyDefaults(_ object: inout JSON) {}
    public func validate(_ object: JSON) -> [FieldError] { [] }
    public func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] { validate(object) }
    public func validateName(_ name: String) -> [String] { NameValidation.dns1123Subdomain(name) }
    public var defaultGarbageCollectionPolicy: String? { nil }

    public func beforeCreate(_ object: inout JSON, context: RegistryContext) async throws {}
    public func beforeUpdate(_ object: inout JSON, old: JSON, context: RegistryContext) async throws {}
    public func checkDelete(_ object: JSON) throws {}
    public func prepareForDelete(_ object: inout JSON, gracePeriodSeconds: Int?) -> Bool { false }
    public func afterDelete(_ object: JSON, context: RegistryContext) async {}
    public func deletionMayComplete(_ object: JSON) -> Bool { true }

    public var tracksGeneration: Bool { false }
    public var generation: GenerationRule { tracksGeneration ? .spec : .untracked }
    public var allowCreateOnUpdate: Bool { false }
    public var expiresWithEventTTL: Bool { false }
    public func selectableFields(_ object: JSON) -> [String: String] { [:] }

    public var columns: [Table.Column] { [.name, .age] }
    public func cells(_ object: JSON) -> [JSON] {
        [.string(object.name ?? ""), .string(Timestamp.age(of: object.creationTimestamp))]
    }
}

/// Which writes set `metadata.generation`, per kind, as upstream's registry strategies decide.
public enum GenerationRule: Sendable, Equatable {
    /// No generation is ever set (pods, volumes, quotas, autoscalers).
    case untracked
    /// Generation 1 on create, bumped on an update that changes any of these top-level fields (none: never
    /// bumped, as PriorityClasses).
    case tracked(by: [String])

    /// The common rule: bumped when `spec` changes.
    public static let spec = GenerationRule.tracked(by: ["spec"])

    /// The generation a new object starts at.
    public var initial: JSON? {
        if case .tracked = self { return .int(1) }
        return nil
    }

    /// Whether an update from `old` to `new` bumps the generation.
    public func bumps(old: JSON, new: JSON) -> Bool {
        guard case .tracked(let fields) = self else { return false }
        return fields.contains { new[$0] != old[$0] }
    }
}

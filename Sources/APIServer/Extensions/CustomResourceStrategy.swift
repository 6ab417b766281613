import APIMachinery
import StructuralSchema

/// The scale subresource's paths as a version of a definition declares them.
struct CustomResourceScale: Sendable, Equatable {
    var specReplicasPath: String
    var statusReplicasPath: String
    var labelSelectorPath: String?
}

/// How one served version of a custom resource differs from other kinds: what its subresources let each
/// endpoint write, how its generation moves, and its printer columns. Everything else is `RegistryStore`'s.
struct CustomResourceStrategy: Strategy {
    /// The definition's name (`<plural>.<group>`), for messages and the controller.
    let definitionName: String
    let hasStatus: Bool
    let scale: CustomResourceScale?
    let printerColumns: CustomResourceColumns
    /// The version's structural schema: objects are pruned, defaulted and validated by it (nil accepts all).
    let schema: StructuralSchema?
    /// The version's `openAPIV3Schema` as written, for `/openapi/v2` and `/openapi/v3`.
    let openAPIV3Schema: JSON?
    /// `spec.names.listKind`, which names the list's OpenAPI definition.
    let listKind: String
    /// The storage version's schema when it has defaults: objects read from storage get them, as upstream's
    /// decoding from etcd applies them, so printer columns see them too.
    let readDefaults: StructuralSchema?
    /// The definition is being deleted: existing objects are served, new ones refused, as upstream.
    let terminating: Bool
    /// `deprecated` versions answer every request with upstream's Warning.
    let deprecationWarning: String?
    /// What the resource was made from (the definition's uid, spec and accepted names, and whether it is
    /// terminating): a store whose fingerprint did not change is kept when the table is rebuilt.
    let fingerprint: JSON

    // Custom resources always carry metadata.generation; `beforeUpdate` decides when it moves.
    var tracksGeneration: Bool { true }

    var columns: [Table.Column] { printerColumns.columns }
    func cells(_ object: JSON) -> [JSON] { printerColumns.cells(asRead(object)) }

    /// A stored object as reads show it, with the storage version's defaults: a default added to the definition
    /// later is no change of the objects stored before it (generation, transition rules, printer columns).
    func asRead(_ stored: JSON) -> JSON {
        guard let readDefaults else { return stored }
        var defaulted = stored
        readDefaults.applyDefaults(&defaulted)
        return defaulted
    }

    func prepareForCreate(_ object: inout JSON) {
        if hasStatus { object["status"] = nil }
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        if hasStatus { object["status"] = old["status"] }
    }

    /// Upstream's custom resource status strategy: only `status` changes (metadata included stays as stored).
    func prepareForStatusUpdate(_ object: inout JSON, old: JSON) {
        var updated = old
        updated["status"] = object["status"]
        updated.setMeta("resourceVersion", object["metadata"]?["resourceVersion"])
        updated.setMeta("managedFields", object["metadata"]?["managedFields"])
        object = updated
    }

    /// The version's schema decides what is unknown, so `fieldValidation` warns about or refuses it as for
    /// built-in kinds.
    func pruneUnknownFields(_ object: inout JSON, kind: GroupVersionKind) -> [String] {
        schema?.prune(&object) ?? []
    }

    /// Unknown fields go and defaults come, as upstream prunes and defaults custom resources on every write.
    func applyDefaults(_ object: inout JSON) {
        guard let schema else { return }
        schema.prune(&object)
        schema.applyDefaults(&object)
    }

    func validate(_ object: JSON) -> [FieldError] { schema?.validate(object) ?? [] }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        schema?.validateUpdate(object, old: asRead(old)) ?? []
    }

    func beforeCreate(_ object: inout JSON, context: RegistryContext) async throws {
        if terminating {
            throw APIError(
                code: 405, reason: .methodNotAllowed,
                message: "create not allowed while custom resource definition is terminating")
        }
    }

    /// The generation moves with any change outside metadata (and outside status when status has its own
    /// endpoint), as upstream's custom resource strategy counts it, not only with `spec`.
    func beforeUpdate(_ object: inout JSON, old: JSON, context: RegistryContext) async throws {
        let previous = old.generation ?? 1
        object.setMeta("generation", .int(previous + (content(object) == content(asRead(old)) ? 0 : 1)))
    }

    private func content(_ object: JSON) -> JSON {
        var stripped = object
        stripped["metadata"] = nil
        if hasStatus { stripped["status"] = nil }
        return stripped
    }
}

/// A version of a definition served through another's storage: objects are stored as the storage version
/// and only `apiVersion` is rewritten, which is upstream's conversion strategy `None`. Objects read from
/// storage first get the storage version's defaults, as upstream's decoder from etcd applies them, so a
/// default added to a definition later shows on objects stored before; a version whose storage schema has no
/// defaults and no other version to convert to has no conversion at all, and keeps the raw read path.
struct CustomResourceVersionConversion: VersionConversion {
    let storageKind: GroupVersionKind
    let servedAPIVersion: String
    /// The storage version's schema, when it has defaults.
    let readDefaults: StructuralSchema?

    func toStorage(_ object: JSON) -> JSON {
        var stored = object
        stored["apiVersion"] = .string(storageKind.group + "/" + storageKind.version)
        return stored
    }

    func fromStorage(_ object: JSON) -> JSON {
        var served = object
        readDefaults?.applyDefaults(&served)
        served["apiVersion"] = .string(servedAPIVersion)
        return served
    }

    func storageFieldLabel(_ label: String) throws(APIError) -> String { try metadataFieldLabel(label) }
}

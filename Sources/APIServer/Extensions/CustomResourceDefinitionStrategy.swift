import APIMachinery

/// CustomResourceDefinitions as upstream's apiextensions registry keeps them: v1 defaults, a status written only
/// by its subresource, `status.storedVersions` kept with the storage version, and deletion that first marks the
/// definition `Terminating` with the cleanup finalizer so its custom resources go before it does.
struct CustomResourceDefinitionStrategy: Strategy {
    var tracksGeneration: Bool { true }

    var columns: [Table.Column] { [.name, Table.Column("Created At", type: "date")] }

    func cells(_ object: JSON) -> [JSON] {
        [Cells.name(object), Cells.string(object.creationTimestamp.map(JSON.string))]
    }

    func prepareForCreate(_ object: inout JSON) {
        object["status"] = nil
        Self.recordStorageVersion(&object)
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        object["status"] = old["status"]
        Self.recordStorageVersion(&object)
    }

    /// Upstream's v1 defaults: `singular` is the lowercased kind, `listKind` the kind plus `List`, conversion
    /// `None`, and printer columns at priority 0.
    func applyDefaults(_ object: inout JSON) {
        guard object["spec"]?.objectValue != nil else { return }
        if let kind = object["spec"]?["names"]?["kind"]?.stringValue, !kind.isEmpty {
            if (object["spec"]?["names"]?["singular"]?.stringValue ?? "").isEmpty {
                object.set(["spec", "names", "singular"], to: .string(kind.lowercased()))
            }
            if (object["spec"]?["names"]?["listKind"]?.stringValue ?? "").isEmpty {
                object.set(["spec", "names", "listKind"], to: .string(kind + "List"))
            }
        }
        if object["spec"]?["conversion"] == nil {
            object.set(["spec", "conversion"], to: ["strategy": "None"])
        }
        guard var versions = object["spec"]?["versions"]?.arrayValue else { return }
        for index in versions.indices {
            guard var columns = versions[index]["additionalPrinterColumns"]?.arrayValue else { continue }
            for column in columns.indices where columns[column]["priority"] == nil {
                columns[column]["priority"] = 0
            }
            versions[index]["additionalPrinterColumns"] = .array(columns)
        }
        object.set(["spec", "versions"], to: .array(versions))
    }

    func validate(_ object: JSON) -> [FieldError] {
        CustomResourceDefinitionValidation.validate(object)
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        CustomResourceDefinitionValidation.validateUpdate(object, old: old)
    }

    /// A first delete marks the definition `Terminating` and adds the cleanup finalizer, as upstream's
    /// registry does; the definition controller then deletes its custom resources and lifts the finalizer.
    func prepareForDelete(_ object: inout JSON, gracePeriodSeconds: Int?) -> Bool {
        guard object["metadata"]?["deletionTimestamp"] == nil else { return true }
        var finalizers = object.finalizers
        if !finalizers.contains(CustomResourceDefinitions.cleanupFinalizer) {
            finalizers.append(CustomResourceDefinitions.cleanupFinalizer)
        }
        object.setMeta("finalizers", .array(finalizers.map(JSON.string)))
        object.setMeta("deletionTimestamp", .string(Timestamp.now()))
        object.setMeta("deletionGracePeriodSeconds", 0)
        setCustomResourceDefinitionCondition(
            &object, type: "Terminating", status: "True", reason: "InstanceDeletionPending",
            message: "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon")
        return true
    }

    /// Adds the storage version to `status.storedVersions` when it is not there yet: objects may now be
    /// stored in it, and an operator removes old entries only after migrating them.
    static func recordStorageVersion(_ object: inout JSON) {
        let view = CustomResourceDefinitionView(object)
        guard let storage = view.storageVersion else { return }
        var stored = view.storedVersions
        guard !stored.contains(storage) else { return }
        stored.append(storage)
        object.set(["status", "storedVersions"], to: .array(stored.map(JSON.string)))
    }
}

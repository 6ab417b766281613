public import APIMachinery

/// Keeps `metadata.managedFields` for one kind, as upstream's field manager does: every write records
/// which manager set which fields (`Update`), and server-side apply merges a manager's configuration,
/// refuses to take fields other managers own unless forced, and drops fields the manager stopped applying.
public struct FieldManager: Sendable {
    public let kind: GroupVersionKind
    let registry: SchemaRegistry
    /// Top-level fields this endpoint's writes cannot own: `status` when the kind has a status subresource.
    let resetFields: Set<String>
    /// For a subresource write, the only top-level field it can own (`status`).
    let onlyField: String?

    public init(
        kind: GroupVersionKind, resetFields: Set<String> = [], onlyField: String? = nil,
        registry: SchemaRegistry = .shared
    ) {
        self.kind = kind
        self.registry = registry
        self.resetFields = resetFields
        self.onlyField = onlyField
    }

    var apiVersion: String { kind.group.isEmpty ? kind.version : kind.group + "/" + kind.version }

    /// Server-maintained fields no manager owns (upstream's strip set).
    static let strippedMetadata: Set<String> = [
        "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation", "managedFields",
        "resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds",
    ]

    /// The part of a field set this endpoint tracks: the set without `apiVersion`, `kind`, server-kept
    /// metadata and the top-level fields this endpoint cannot write.
    func tracked(_ set: FieldSet) -> FieldSet {
        var result = set
        result.removeTopLevel { name in
            if name == "apiVersion" || name == "kind" { return true }
            if let onlyField { return name != onlyField && name != "metadata" }
            return resetFields.contains(name)
        }
        if onlyField != nil {
            // A subresource write owns only its field; metadata goes too.
            result.removeTopLevel { $0 == "metadata" }
        } else {
            result.removeMember(.field("metadata"))
            result.removeBelow(.field("metadata")) { Self.strippedMetadata.contains($0) }
        }
        return result
    }

    /// The entries of an object's managedFields; entries that cannot be read are dropped, as upstream
    /// resets managed fields it cannot decode.
    public static func entries(of object: JSON) -> [ManagedFieldsEntry] {
        (object["metadata"]?["managedFields"]?.arrayValue ?? []).compactMap { try? ManagedFieldsEntry(json: $0) }
    }

    static func write(_ entries: [ManagedFieldsEntry], to object: inout JSON) {
        let kept = ManagedFieldsEntry.ordered(entries.filter { !$0.fields.isEmpty })
        object.setMeta("managedFields", kept.isEmpty ? nil : .array(kept.map(\.json)))
    }

    private static func withoutManagedFields(_ object: JSON) -> JSON {
        var copy = object
        copy.setMeta("managedFields", nil)
        return copy
    }

    // MARK: Update

    /// Records a non-apply write (create, update, patch): `manager` takes every field the write added or
    /// changed, from whoever owned it, and removed fields leave every manager. `live` is nil on create.
    /// When the write changed nothing, the live managedFields stay as they were.
    public func update(_ object: inout JSON, live: JSON?, manager: String, subresource: String = "", now: String) {
        let incoming = object["metadata"]?["managedFields"]
        // A client that sends no managedFields keeps the live ones; an empty list resets them.
        var entries: [ManagedFieldsEntry]
        if let incoming, !incoming.isNull {
            entries = Self.entries(of: object)
        } else {
            entries = live.map(Self.entries(of:)) ?? []
        }
        if live == nil, entries.isEmpty, let fields = createdFieldsV1(of: object) {
            // A create nobody else owns fields of: its entry is written straight from the object.
            guard !fields.isEmpty else {
                object.setMeta("managedFields", nil)
                return
            }
            let entry = ManagedFieldsEntry.json(
                manager: manager, operation: .update, apiVersion: apiVersion, time: now, fieldsV1: .object(fields),
                subresource: subresource)
            object.setMeta("managedFields", .array([entry]))
            return
        }
        let after = incoming == nil ? object : Self.withoutManagedFields(object)
        let changed: FieldSet
        let removed: FieldSet
        if let live {
            let before = Self.withoutManagedFields(live)
            if before == after, incoming == nil || incoming == live["metadata"]?["managedFields"] {
                object.setMeta("managedFields", live["metadata"]?["managedFields"])
                return
            }
            let comparison = registry.compare(before, after, kind: kind)
            changed = tracked(comparison.added.union(comparison.modified))
            removed = tracked(comparison.removed)
        } else {
            // A create: everything the object sets is new, so its own field set is the change.
            changed = tracked(registry.createdFields(of: after, kind: kind))
            removed = FieldSet()
        }
        let identity = ManagedFieldsEntry(
            manager: manager, operation: .update, apiVersion: apiVersion, time: now, fields: FieldSet(),
            subresource: subresource)
        var mine = identity
        for (index, entry) in entries.enumerated() {
            if entry.sameManager(as: identity) {
                mine.fields = entry.fields
                entries[index].fields = FieldSet()
            } else {
                entries[index].fields = entry.fields.subtracting(changed).subtracting(removed)
            }
        }
        mine.fields = mine.fields.subtracting(removed).union(changed)
        entries.append(mine)
        Self.write(entries, to: &object)
    }

    // MARK: Apply

    /// Server-side apply of `config` by `manager` onto `live` (nil when the object does not exist yet).
    /// Returns the object to store, managedFields included, or throws the conflicts with other managers.
    public func apply(
        _ config: JSON, to live: JSON?, manager: String, subresource: String = "", force: Bool, now: String
    ) throws(ApplyConflicts) -> JSON {
        var entries = live.map(Self.entries(of:)) ?? []
        let liveObject = live.map(Self.withoutManagedFields) ?? .object(JSONObject())
        var merged = registry.applyMerge(liveObject, config, kind: kind)
        let applied = tracked(registry.fieldSet(of: config, kind: kind))
        let identity = ManagedFieldsEntry(
            manager: manager, operation: .apply, apiVersion: apiVersion, time: now, fields: applied,
            subresource: subresource)
        let previous = entries.first { $0.sameManager(as: identity) }?.fields ?? FieldSet()

        // Fields this manager applied before and no longer does go, unless someone else still owns them.
        let others = entries.filter { !$0.sameManager(as: identity) }
        let dropped = previous.subtracting(applied).filter { path in
            !applied.containsPrefix(path) && !others.contains { $0.fields.containsPrefix(path) }
        }
        if !dropped.isEmpty { merged = registry.remove(dropped, from: merged, kind: kind) }

        let comparison = registry.compare(liveObject, merged, kind: kind)
        let changed = tracked(comparison.added.union(comparison.modified))
        let removed = tracked(comparison.removed)
        var conflicts: [ApplyConflicts.Conflict] = []
        for entry in others {
            for path in entry.fields.intersection(changed).paths {
                conflicts.append(ApplyConflicts.Conflict(manager: entry.conflictName, path: path))
            }
        }
        if !conflicts.isEmpty, !force { throw ApplyConflicts(conflicts: conflicts) }
        entries.removeAll { $0.sameManager(as: identity) }
        for index in entries.indices {
            entries[index].fields = entries[index].fields.subtracting(changed).subtracting(removed)
        }
        entries.append(identity)
        Self.write(entries, to: &merged)
        // Nothing changed: keep the live object byte for byte, timestamps included.
        if let live, Self.withoutManagedFields(merged) == liveObject, previous == applied {
            return live
        }
        return merged
    }
}

/// Fields an apply would take from other managers; the API answers 409 with upstream's message.
public struct ApplyConflicts: Error, Sendable, Equatable, CustomStringConvertible {
    /// One field another manager owns, with that manager as conflict messages name it.
    public struct Conflict: Sendable, Equatable {
        public var manager: String
        public var path: FieldPath

        public init(manager: String, path: FieldPath) {
            self.manager = manager
            self.path = path
        }
    }

    public var conflicts: [Conflict]

    public init(conflicts: [Conflict]) { self.conflicts = conflicts }

    /// `Apply failed with 1 conflict: conflict with "a": .spec.replicas`, or for several, grouped by
    /// manager in sorted order: `Apply failed with 2 conflicts: conflicts with "a":\n- .spec.replicas…`.
    public var description: String {
        if conflicts.count == 1, let only = conflicts.first {
            return "Apply failed with 1 conflict: conflict with \(only.manager): \(only.path.pathDescription)"
        }
        var lines: [String] = []
        for manager in Set(conflicts.map(\.manager)).sorted() {
            lines.append("conflicts with \(manager):")
            for conflict in conflicts where conflict.manager == manager {
                lines.append("- \(conflict.path.pathDescription)")
            }
        }
        return "Apply failed with \(conflicts.count) conflicts: " + lines.joined(separator: "\n")
    }
}

extension FieldManager {
    /// The fields an applied configuration claims at this endpoint: its field set without what no manager owns.
    public func trackedFields(of configuration: JSON) -> FieldSet {
        tracked(registry.fieldSet(of: configuration, kind: kind))
    }
}

public import APIMachinery

/// Applies `application/strategic-merge-patch+json` bodies the way the Kubernetes API server does,
/// steered by the `x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key` of each field.
public enum StrategicMergePatch {
    /// Returns `original` with `patch` applied; fields without a schema merge as a JSON merge patch.
    public static func apply(
        _ patch: JSON, to original: JSON, kind: GroupVersionKind, registry: SchemaRegistry = .shared
    ) throws(StrategicMergePatchError) -> JSON {
        guard case .object(let patchObject) = patch else {
            throw StrategicMergePatchError("patch must be a JSON object, not \(patch.typeName)")
        }
        let originalObject: JSONObject
        switch original {
        case .object(let object): originalObject = object
        // Upstream treats a missing document as empty.
        case .null: originalObject = JSONObject()
        default: throw StrategicMergePatchError("object to patch must be a JSON object, not \(original.typeName)")
        }
        let merger = StrategicMerger(registry: registry)
        let root = registry.schema(for: kind).map(registry.resolve)
        return .object(try merger.mergeObject(originalObject, patchObject, schema: root, path: ""))
    }
}

/// A malformed strategic merge patch; the server answers it with 422 or 400.
public struct StrategicMergePatchError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(message: String) { self.message = message }
    init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// The special keys of the strategic merge patch format.
enum PatchDirective {
    static let marker = "$patch"
    static let retainKeys = "$retainKeys"
    static let setElementOrder = "$setElementOrder"
    static let deleteFromPrimitiveList = "$deleteFromPrimitiveList"

    /// The list field a `$setElementOrder/<field>` or `$deleteFromPrimitiveList/<field>` key names.
    static func field(of key: String, prefix: String) throws(StrategicMergePatchError) -> String? {
        guard key.hasPrefix(prefix) else { return nil }
        let rest = key.dropFirst(prefix.count)
        guard rest.first == "/", rest.count > 1 else {
            throw StrategicMergePatchError("invalid directive key \(key): expected \(prefix)/<field>")
        }
        return String(rest.dropFirst())
    }
}

/// How a field's `x-kubernetes-patch-strategy` asks for it to be patched.
struct PatchStrategy {
    var merge = false
    var replace = false

    init(_ schema: Schema?) {
        for part in (schema?.patchStrategy ?? "").split(separator: ",") {
            switch part {
            case "merge": merge = true
            case "replace": replace = true
            // retainKeys only says the client may send `$retainKeys`; the directive itself steers.
            default: break
            }
        }
    }
}

/// The recursive merge, carrying the registry for resolving `$ref`s on the way down.
struct StrategicMerger {
    let registry: SchemaRegistry

    /// The resolved schema of `key` inside an object or map node; nil where the shape is unknown.
    func child(_ schema: Schema?, _ key: String) -> Schema? {
        switch schema?.type {
        case .object(let object)?: return object.properties[key].map(registry.resolve)
        case .map(let values)?: return registry.resolve(values)
        default: return nil
        }
    }

    /// The resolved schema of a list node's items.
    func items(_ schema: Schema?) -> Schema? {
        if case .array(let items)? = schema?.type { return registry.resolve(items) }
        return nil
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Merges one patch map into one original map (upstream's `mergeMap`).
    func mergeObject(
        _ original: JSONObject, _ patch: JSONObject, schema: Schema?, path: String
    ) throws(StrategicMergePatchError) -> JSONObject {
        var patch = patch
        if let directive = patch[PatchDirective.marker] {
            switch directive.stringValue {
            case "replace":
                patch[PatchDirective.marker] = nil
                return try mergeObject(JSONObject(), patch, schema: schema, path: path)
            case "delete":
                // Upstream leaves an empty map behind rather than removing the field.
                return JSONObject()
            default:
                throw StrategicMergePatchError(
                    "\(path.isEmpty ? "patch" : path): unknown $patch directive \(directive.jsonString) in a map; "
                        + "expected \"replace\" or \"delete\"")
            }
        }
        var result = original
        try applyRetainKeys(to: &result, patch: &patch, path: path)
        try applySetElementOrder(to: &result, patch: &patch, schema: schema, path: path)

        for (key, patchValue) in patch.entries {
            var field = key
            var isDeleteList = false
            if let listField = try PatchDirective.field(of: key, prefix: PatchDirective.deleteFromPrimitiveList) {
                guard case .array = patchValue else {
                    throw StrategicMergePatchError("\(Self.join(path, key)): must be a list of values to delete")
                }
                field = listField
                isDeleteList = true
            }
            let fieldSchema = child(schema, field)
            let fieldPath = Self.join(path, field)
            if patchValue.isNull {
                result[field] = nil
                continue
            }
            guard let current = result[field] else {
                // A deletion from a list that does not exist has nothing to do.
                if !isDeleteList { result[field] = try fresh(patchValue, schema: fieldSchema, path: fieldPath) }
                continue
            }
            switch (current, patchValue) {
            case (.object(let currentObject), .object(let patchObject)):
                let base = PatchStrategy(fieldSchema).replace ? JSONObject() : currentObject
                result[field] = .object(try mergeObject(base, patchObject, schema: fieldSchema, path: fieldPath))
            case (.array(let currentList), .array(let patchList)):
                result[field] = .array(
                    try mergeListField(
                        currentList, patchList, schema: fieldSchema, isDeleteList: isDeleteList, path: fieldPath))
            default:
                // Differing shapes or scalars: the patch value wins.
                if !isDeleteList { result[field] = try fresh(patchValue, schema: fieldSchema, path: fieldPath) }
            }
        }
        return result
    }

    /// `$retainKeys`: drops every original key the list does not name (Deployment strategy, volumes).
    private func applyRetainKeys(
        to result: inout JSONObject, patch: inout JSONObject, path: String
    ) throws(StrategicMergePatchError) {
        guard let directive = patch[PatchDirective.retainKeys] else { return }
        patch[PatchDirective.retainKeys] = nil
        let location = Self.join(path, PatchDirective.retainKeys)
        guard case .array(let items) = directive else {
            throw StrategicMergePatchError("\(location): must be a list of field names")
        }
        var keep = Set<String>()
        for item in items {
            guard let name = item.stringValue else {
                throw StrategicMergePatchError("\(location): must be a list of field names")
            }
            keep.insert(name)
        }
        // A field set by the patch but not retained would be contradictory.
        for (key, value) in patch.entries where !value.isNull && !keep.contains(key) && !key.hasPrefix("$") {
            throw StrategicMergePatchError("\(location): field \(key) is set in the patch but not listed")
        }
        result.entries.removeAll { !keep.contains($0.key) }
    }

    /// A patch value for a field the original lacks: nulls and directives are dropped, and
    /// nested directives are applied to an empty original so none survive into the result.
    func fresh(_ value: JSON, schema: Schema?, path: String) throws(StrategicMergePatchError) -> JSON? {
        switch value {
        case .object(let object):
            if object[PatchDirective.marker]?.stringValue == "delete" { return nil }
            return .object(try mergeObject(JSONObject(), object, schema: schema, path: path))
        case .array(let list):
            return .array(try freshList(list, itemSchema: items(schema), path: path))
        default:
            return value
        }
    }

    /// List items taken from the patch as they are; `$patch` marker items are dropped, as upstream does.
    func freshList(_ list: [JSON], itemSchema: Schema?, path: String) throws(StrategicMergePatchError) -> [JSON] {
        var result: [JSON] = []
        result.reserveCapacity(list.count)
        for (index, item) in list.enumerated() {
            let itemPath = "\(path)[\(index)]"
            if case .object(let object) = item, let directive = object[PatchDirective.marker] {
                try Self.checkListDirective(directive, path: itemPath)
                continue
            }
            if let value = try fresh(item, schema: itemSchema, path: itemPath) { result.append(value) }
        }
        return result
    }

    static func checkListDirective(_ directive: JSON, path: String) throws(StrategicMergePatchError) {
        switch directive.stringValue {
        case "delete", "replace": return
        case "merge": throw StrategicMergePatchError("\(path): $patch: merge is not supported in lists")
        default:
            throw StrategicMergePatchError(
                "\(path): unknown $patch directive \(directive.jsonString) in a list; expected \"replace\" or \"delete\""
            )
        }
    }
}

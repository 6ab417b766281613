public import APIMachinery

// Pruning drops the fields a kind's schema does not have, as upstream's decoder drops them when it
// reads JSON into Go structs; `fieldValidation=Strict` turns the same list into a 400, and `Warn`
// into warnings. Free-form values (RawExtension, FieldsV1, map values of scalar type) are left alone.

extension SchemaRegistry {
    /// Upstream stops collecting strict-decoding errors after this many.
    public static let maxReportedUnknownFields = 100

    /// Removes every field of `object` that the kind's schema does not define and returns their
    /// paths in upstream's wording: `spec.foo`, `spec.containers[0].foo`, `metadata.labels` keys are
    /// never reported because labels are a map. `apiVersion`, `kind` and `metadata` always stay.
    /// An unknown kind leaves the object untouched and reports nothing.
    @discardableResult
    public func prune(_ object: inout JSON, kind: GroupVersionKind) -> [String] {
        guard let root = schema(for: kind) else { return [] }
        var pruner = Pruner(registry: self)
        pruner.prune(&object, schema: root, isRoot: true)
        return pruner.removed
    }

    /// The message upstream's strict decoder writes for one unknown field: `unknown field "spec.foo"`.
    public static func unknownFieldMessage(_ path: String) -> String {
        "unknown field \(goQuoted(path))"
    }

    /// The whole strict-decoding error text upstream returns (before the kind prefix the server adds):
    /// `strict decoding error: unknown field "spec.a", unknown field "spec.b"`.
    public static func strictDecodingMessage(_ paths: [String]) -> String {
        "strict decoding error: "
            + paths.prefix(maxReportedUnknownFields).map(unknownFieldMessage).joined(separator: ", ")
    }

    /// Quotes like Go's strconv.Quote for the characters field names can contain.
    static func goQuoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                out += "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// One pruning pass; keeps the current path as components so strings are built only for reports.
private struct Pruner {
    enum Component {
        case key(String)
        case index(Int)
    }

    let registry: SchemaRegistry
    var path: [Component] = []
    var removed: [String] = []

    init(registry: SchemaRegistry) { self.registry = registry }

    mutating func prune(_ value: inout JSON, schema: Schema, isRoot: Bool = false) {
        let resolved = registry.resolve(schema)
        switch (resolved.type, value) {
        case (.object(let object), .object(var entries)):
            // Drop our reference so the entries array is uniquely owned and mutated in place.
            value = .null
            pruneFields(&entries, object: object, isRoot: isRoot)
            value = .object(entries)
        case (.map(let values), .object(var entries)):
            guard needsWalk(values) else { return }
            value = .null
            for index in entries.entries.indices {
                path.append(.key(entries.entries[index].key))
                prune(&entries.entries[index].value, schema: values)
                path.removeLast()
            }
            value = .object(entries)
        case (.array(let items), .array(var elements)):
            guard needsWalk(items) else { return }
            value = .null
            for index in elements.indices {
                path.append(.index(index))
                prune(&elements[index], schema: items)
                path.removeLast()
            }
            value = .array(elements)
        default:
            // Scalars, free-form values, and values of the wrong JSON type (validation reports those).
            return
        }
    }

    mutating func pruneFields(_ entries: inout JSONObject, object: ObjectSchema, isRoot: Bool) {
        var unknown: [Int] = []
        for index in entries.entries.indices {
            let key = entries.entries[index].key
            guard let field = object.properties[key] else {
                if isRoot && (key == "apiVersion" || key == "kind" || key == "metadata") { continue }
                unknown.append(index)
                report(key)
                continue
            }
            guard needsWalk(field) else { continue }
            path.append(.key(key))
            prune(&entries.entries[index].value, schema: field)
            path.removeLast()
        }
        guard !unknown.isEmpty else { return }
        let dropped = Set(unknown)
        entries.entries = entries.entries.enumerated().filter { !dropped.contains($0.offset) }.map(\.element)
    }

    /// Scalars and free-form values hold no fields to prune.
    func needsWalk(_ schema: Schema) -> Bool {
        switch schema.type {
        case .reference(let name):
            guard let target = registry.definitions[name] else { return false }
            return needsWalk(target)
        case .object, .map, .array: return true
        case .primitive, .intOrString, .any: return false
        }
    }

    mutating func report(_ key: String) {
        var text = ""
        for component in path {
            switch component {
            case .key(let name):
                if !text.isEmpty { text += "." }
                text += name
            case .index(let index):
                text += "[\(index)]"
            }
        }
        if !text.isEmpty { text += "." }
        removed.append(text + key)
    }
}

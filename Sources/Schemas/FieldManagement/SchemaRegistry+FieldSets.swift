public import APIMachinery

/// What changed between two versions of an object, path by path, as upstream's field manager records it.
public struct FieldComparison: Sendable, Equatable {
    public var added = FieldSet()
    public var modified = FieldSet()
    public var removed = FieldSet()

    public init() {}

    public var isEmpty: Bool { added.isEmpty && modified.isEmpty && removed.isEmpty }
}

extension SchemaRegistry {
    /// The fields an object sets (upstream's `ToFieldSet`): every leaf, every map entry and list item,
    /// and struct fields that are null or empty; this is the set an applied configuration claims.
    public func fieldSet(of object: JSON, kind: GroupVersionKind) -> FieldSet {
        var set = FieldSet()
        var path: FieldPath = []
        collectFields(object, schema: schema(for: kind).map(resolve), path: &path, into: &set)
        return set
    }

    private func collectFields(_ value: JSON, schema: Schema?, path: inout FieldPath, into set: inout FieldSet) {
        let shape = FieldShape(schema)
        switch (shape, value) {
        case (.structure(let object), .object(let fields)):
            for (name, child) in fields {
                path.append(.field(name))
                let childSchema = object.properties[name].map(resolve)
                collectFields(child, schema: childSchema, path: &path, into: &set)
                if childSchema == nil || child.isNull || child.objectValue?.isEmpty == true { set.insert(path) }
                path.removeLast()
            }
        case (.map(let values), .object(let fields)):
            let valueSchema = resolve(values)
            for (name, child) in fields {
                path.append(.field(name))
                collectFields(child, schema: valueSchema, path: &path, into: &set)
                set.insert(path)
                path.removeLast()
            }
        case (.associativeList(_, let item), .array(let list)), (.setList(let item), .array(let list)):
            let itemSchema = resolve(item)
            for (element, child) in shape.namedItems(list) {
                path.append(element)
                if case .associativeList = shape { collectFields(child, schema: itemSchema, path: &path, into: &set) }
                set.insert(path)
                path.removeLast()
            }
        default:
            if !path.isEmpty { set.insert(path) }
        }
    }

    /// Compares two versions of an object (upstream's `Compare`): leaves added, changed or removed, plus
    /// map entries and list items that appeared or went away. A nil `old` is a create.
    public func compare(_ old: JSON?, _ new: JSON?, kind: GroupVersionKind) -> FieldComparison {
        var result = FieldComparison()
        var path: FieldPath = []
        compare(old, new, schema: schema(for: kind).map(resolve), path: &path, ownsNode: false, into: &result)
        return result
    }

    private func compare(
        _ old: JSON?, _ new: JSON?, schema: Schema?, path: inout FieldPath, ownsNode: Bool,
        into result: inout FieldComparison
    ) {
        let shape = FieldShape(schema)
        let isContainer: Bool
        switch (shape, old ?? new) {
        case (.structure, .object?), (.map, .object?), (.associativeList, .array?), (.setList, .array?):
            // Both sides must have the container's JSON type, and a container empty on both sides is a leaf.
            isContainer = Self.sameContainer(old, new) && !(Self.isEmptyContainer(old) && Self.isEmptyContainer(new))
        default:
            isContainer = false
        }
        guard isContainer else {
            guard !path.isEmpty else { return }
            if old == nil {
                result.added.insert(path)
            } else if new == nil {
                result.removed.insert(path)
            } else if old != new {
                result.modified.insert(path)
            }
            return
        }
        switch shape {
        case .structure(let object):
            for name in Self.unionKeys(old?.objectValue, new?.objectValue) {
                path.append(.field(name))
                compare(
                    old?[name], new?[name], schema: object.properties[name].map(resolve), path: &path, ownsNode: false,
                    into: &result)
                path.removeLast()
            }
        case .map(let values):
            let valueSchema = resolve(values)
            for name in Self.unionKeys(old?.objectValue, new?.objectValue) {
                path.append(.field(name))
                compare(old?[name], new?[name], schema: valueSchema, path: &path, ownsNode: true, into: &result)
                path.removeLast()
            }
        case .associativeList(_, let item), .setList(let item):
            let itemSchema = resolve(item)
            let before = shape.namedItems(old?.arrayValue ?? [])
            let after = shape.namedItems(new?.arrayValue ?? [])
            var beforeByElement: [PathElement: JSON] = [:]
            for (element, value) in before { beforeByElement[element] = value }
            var afterByElement: [PathElement: JSON] = [:]
            for (element, value) in after { afterByElement[element] = value }
            for (element, value) in before where afterByElement[element] == nil {
                path.append(element)
                compare(value, nil, schema: itemSchema, path: &path, ownsNode: true, into: &result)
                path.removeLast()
            }
            for (element, value) in after {
                path.append(element)
                compare(beforeByElement[element], value, schema: itemSchema, path: &path, ownsNode: true, into: &result)
                path.removeLast()
            }
        case .leaf:
            break
        }
        // A map entry, list item or map that appears is owned as a node too (`".": {}`); upstream owns
        // pointer structs the same way, which JSON cannot tell from the structs Go always writes.
        let ownsSelf = ownsNode || { if case .map = shape { return true } else { return false } }()
        if old == nil, ownsSelf, !path.isEmpty {
            result.added.insert(path)
        } else if new == nil, !path.isEmpty {
            result.removed.insert(path)
        }
    }

    /// What creating `object` adds: the same set as `compare(nil, object, kind:).added`, walked over the new
    /// object alone, since a create has no old side to line up key by key or item by item.
    public func createdFields(of object: JSON, kind: GroupVersionKind) -> FieldSet {
        var set = FieldSet()
        var path: FieldPath = []
        collectCreated(object, schema: schema(for: kind).map(resolve), path: &path, ownsNode: false, into: &set)
        return set
    }

    private func collectCreated(
        _ value: JSON, schema: Schema?, path: inout FieldPath, ownsNode: Bool, into set: inout FieldSet
    ) {
        let shape = FieldShape(schema)
        switch (shape, value) {
        case (.structure(let object), .object(let fields)) where !fields.isEmpty:
            for (name, child) in fields {
                path.append(.field(name))
                collectCreated(
                    child, schema: object.properties[name].map(resolve), path: &path, ownsNode: false, into: &set)
                path.removeLast()
            }
        case (.map(let values), .object(let fields)) where !fields.isEmpty:
            let valueSchema = resolve(values)
            for (name, child) in fields {
                path.append(.field(name))
                collectCreated(child, schema: valueSchema, path: &path, ownsNode: true, into: &set)
                path.removeLast()
            }
            // A map that appears is owned as a node too, as `compare` records it.
            if !path.isEmpty { set.insert(path) }
            return
        case (.associativeList(_, let item), .array(let list)) where !list.isEmpty,
            (.setList(let item), .array(let list)) where !list.isEmpty:
            let itemSchema = resolve(item)
            for (element, child) in shape.namedItems(list) {
                path.append(element)
                collectCreated(child, schema: itemSchema, path: &path, ownsNode: true, into: &set)
                path.removeLast()
            }
        default:
            // A leaf, an empty container, or a value whose JSON type does not match its schema.
            if !path.isEmpty { set.insert(path) }
            return
        }
        if ownsNode, !path.isEmpty { set.insert(path) }
    }

    private static func unionKeys(_ a: JSONObject?, _ b: JSONObject?) -> [String] {
        var keys = a?.keys ?? []
        let known = Set(keys)
        for key in b?.keys ?? [] where !known.contains(key) { keys.append(key) }
        return keys
    }

    private static func sameContainer(_ a: JSON?, _ b: JSON?) -> Bool {
        switch (a, b) {
        case (.object?, .object?), (.array?, .array?), (.object?, nil), (nil, .object?), (.array?, nil), (nil, .array?):
            return true
        default:
            return false
        }
    }

    private static func isEmptyContainer(_ value: JSON?) -> Bool {
        switch value {
        case nil, .null?: return true
        case .object(let object)?: return object.isEmpty
        case .array(let list)?: return list.isEmpty
        default: return false
        }
    }
}

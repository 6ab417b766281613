import APIMachinery

extension FieldManager {
    /// The FieldsV1 a create records for its manager, written straight from the object while walking it with
    /// the schema's resolved shapes: the same JSON as `tracked(registry.createdFields(of:kind:)).fieldsV1`,
    /// without building the trie, filtering a copy of it and sorting it again (a pod's create spent most of
    /// its field management there). Nil when the object has a duplicate key, which only the trie merges; an
    /// empty object when the create sets no tracked field.
    func createdFieldsV1(of object: JSON) -> JSONObject? {
        guard onlyField == nil, case .object(let fields) = object, let root = registry.fieldShapeRoot(for: kind)
        else { return nil }
        let tree = registry.fieldShapes
        guard case .structure(let properties) = tree.nodes[root] else { return nil }
        var walker = CreatedFieldsWriter(tree: tree)
        var children: [(element: PathElement, node: JSONObject)] = []
        children.reserveCapacity(fields.count)
        for (name, child) in fields {
            if name == "apiVersion" || name == "kind" || resetFields.contains(name) { continue }
            let shape = properties[name] ?? 0
            guard name == "metadata" else {
                children.append((.field(name), walker.node(child, shape: shape, ownsNode: false)))
                continue
            }
            // Server-kept metadata is nobody's, and `metadata` itself is never a member.
            guard case .object(let metadata) = child, !metadata.isEmpty else { continue }
            guard case .structure(let metadataProperties) = tree.nodes[shape] else { return nil }
            var kept: [(element: PathElement, node: JSONObject)] = []
            for (field, value) in metadata where !Self.strippedMetadata.contains(field) {
                let fieldShape = metadataProperties[field] ?? 0
                kept.append((.field(field), walker.node(value, shape: fieldShape, ownsNode: false)))
            }
            if !kept.isEmpty { children.append((.field(name), walker.container(kept, member: false))) }
        }
        let result = walker.container(children, member: false)
        return walker.duplicate ? nil : result
    }
}

/// The walk behind `createdFieldsV1`, node by node as `SchemaRegistry.collectCreated` inserts paths.
private struct CreatedFieldsWriter {
    let tree: FieldShapeTree
    /// Set when two siblings share a path element; the caller then takes the trie's way.
    var duplicate = false

    /// The FieldsV1 value of one non-root node: `{}` for a member with nothing below, else its children
    /// (after `"."` when the node is a member too).
    mutating func node(_ value: JSON, shape: Int, ownsNode: Bool) -> JSONObject {
        switch (tree.nodes[shape], value) {
        case (.structure(let properties), .object(let fields)) where !fields.isEmpty:
            var children: [(element: PathElement, node: JSONObject)] = []
            children.reserveCapacity(fields.count)
            for (name, child) in fields {
                children.append((.field(name), node(child, shape: properties[name] ?? 0, ownsNode: false)))
            }
            return container(children, member: ownsNode)
        case (.map(let values), .object(let fields)) where !fields.isEmpty:
            var children: [(element: PathElement, node: JSONObject)] = []
            children.reserveCapacity(fields.count)
            for (name, child) in fields {
                children.append((.field(name), node(child, shape: values, ownsNode: true)))
            }
            // A map that appears is owned as a node too.
            return container(children, member: true)
        case (.associativeList(let keys, let item), .array(let list)) where !list.isEmpty:
            return items(list, item: item, ownsNode: ownsNode) { index, value in
                FieldShape.element(ofItem: value, keys: keys) ?? .index(index)
            }
        case (.setList(let item), .array(let list)) where !list.isEmpty:
            return items(list, item: item, ownsNode: ownsNode) { _, value in .value(of: value) }
        default:
            // A leaf, an empty container, or a value whose JSON type does not match its schema.
            return JSONObject()
        }
    }

    /// A map or set list's node: its items named by `element`, the first of each duplicate kept, as
    /// `FieldShape.namedItems` names them.
    private mutating func items(
        _ list: [JSON], item: Int, ownsNode: Bool, element: (Int, JSON) -> PathElement
    ) -> JSONObject {
        var seen = Set<PathElement>()
        var children: [(element: PathElement, node: JSONObject)] = []
        children.reserveCapacity(list.count)
        for (index, value) in list.enumerated() {
            let name = element(index, value)
            guard seen.insert(name).inserted else { continue }
            children.append((name, node(value, shape: item, ownsNode: true)))
        }
        return container(children, member: ownsNode)
    }

    /// A node's FieldsV1 object from its children, in upstream's order of path elements.
    mutating func container(_ children: [(element: PathElement, node: JSONObject)], member: Bool) -> JSONObject {
        var sorted = children
        // Struct fields usually arrive in order already; sorting then costs one pass of comparisons.
        if !Self.isSorted(sorted) { sorted.sort { $0.element < $1.element } }
        var object = JSONObject()
        object.entries.reserveCapacity(sorted.count + (member ? 1 : 0))
        if member, !sorted.isEmpty { object.entries.append((".", .object(JSONObject()))) }
        var previous: PathElement?
        for (element, node) in sorted {
            if element == previous { duplicate = true }
            previous = element
            object.entries.append((element.fieldsV1Key, .object(node)))
        }
        return object
    }

    private static func isSorted(_ children: [(element: PathElement, node: JSONObject)]) -> Bool {
        var index = children.startIndex + 1
        while index < children.endIndex {
            if children[index].element < children[index - 1].element { return false }
            index += 1
        }
        return true
    }
}

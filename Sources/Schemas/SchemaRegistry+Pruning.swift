public import APIMachinery

// Pruning drops the fields a kind's schema does not have, as upstream's decoder drops them when it
// reads JSON into Go structs; `fieldValidation=Strict` turns the same list into a 400, and `Warn`
// into warnings. Free-form values (RawExtension, FieldsV1, map values of scalar type) are left alone.
//
// Every write passes through here, so the walk runs over a compact index-based tree (PruneTree)
// instead of the Schema enum, and reads first: objects without unknown fields are never rewritten.

extension SchemaRegistry {
    /// Upstream stops collecting strict-decoding errors after this many.
    public static let maxReportedUnknownFields = 100

    /// Removes every field of `object` that the kind's schema does not define and returns their
    /// paths in upstream's wording: `spec.foo`, `spec.containers[0].foo`; keys of maps such as
    /// `metadata.labels` are free. `apiVersion`, `kind` and `metadata` always stay.
    /// An unknown kind leaves the object untouched and reports nothing.
    @discardableResult
    public func prune(_ object: inout JSON, kind: GroupVersionKind) -> [String] {
        guard let name = definitionName(for: kind), let root = pruneTree.roots[name] else { return [] }
        var walker = PruneWalker(tree: pruneTree)
        walker.scan(object, node: root, isRoot: true)
        if !walker.removed.isEmpty { walker.remove(&object, node: root, isRoot: true) }
        return walker.removed
    }

    /// The message upstream's strict decoder writes for one unknown field: `unknown field "spec.foo"`.
    public static func unknownFieldMessage(_ path: String) -> String {
        "unknown field \(GoFormat.quote(path))"
    }

    /// The strict-decoding error text upstream returns (before the kind prefix the server adds):
    /// `strict decoding error: unknown field "spec.a", unknown field "spec.b"`.
    public static func strictDecodingMessage(_ paths: [String]) -> String {
        "strict decoding error: "
            + paths.prefix(maxReportedUnknownFields).map(unknownFieldMessage).joined(separator: ", ")
    }
}

/// The field structure of all definitions, reduced to what pruning needs; nodes refer to each
/// other by index, so recursive definitions need no reference cycles.
struct PruneTree: Sendable {
    enum Node: Sendable {
        /// Nothing to prune below: scalars, int-or-string, free-form values.
        case leaf
        case object([String: Int])
        case map(Int)
        case array(Int)
    }

    private(set) var nodes: [Node] = [.leaf]
    /// Definition name to its node.
    private(set) var roots: [String: Int] = [:]

    init(definitions: [String: Schema]) {
        let names = definitions.keys.sorted()
        // Reserve every definition's index first so references resolve, even forward and cyclic ones.
        for name in names {
            roots[name] = nodes.count
            nodes.append(.leaf)
        }
        for name in names {
            guard let index = roots[name], let schema = definitions[name] else { continue }
            nodes[index] = node(for: schema)
        }
    }

    private mutating func add(_ schema: Schema) -> Int {
        if case .reference(let name) = schema.type { return roots[name] ?? 0 }
        let node = node(for: schema)
        if case .leaf = node { return 0 }
        nodes.append(node)
        return nodes.count - 1
    }

    private mutating func node(for schema: Schema) -> Node {
        switch schema.type {
        case .reference(let name):
            // A definition that is only an alias of another shares the other's structure.
            return roots[name].map { nodes[$0] } ?? .leaf
        case .object(let object):
            var fields: [String: Int] = [:]
            fields.reserveCapacity(object.properties.count)
            for (name, property) in object.properties { fields[name] = add(property) }
            return .object(fields)
        case .map(let values):
            let child = add(values)
            return child == 0 ? .leaf : .map(child)
        case .array(let items):
            let child = add(items)
            return child == 0 ? .leaf : .array(child)
        case .primitive, .intOrString, .any:
            return .leaf
        }
    }

    func isLeaf(_ index: Int) -> Bool {
        if case .leaf = nodes[index] { return true }
        return false
    }
}

/// One pruning pass: `scan` reads and reports, `remove` rewrites only when `scan` found something.
private struct PruneWalker {
    enum Component {
        case key(String)
        case index(Int)
    }

    let tree: PruneTree
    var path: [Component] = []
    var removed: [String] = []

    init(tree: PruneTree) { self.tree = tree }

    static func isAlwaysKept(_ key: String, isRoot: Bool) -> Bool {
        isRoot && (key == "apiVersion" || key == "kind" || key == "metadata")
    }

    mutating func scan(_ value: JSON, node: Int, isRoot: Bool = false) {
        switch (tree.nodes[node], value) {
        case (.object(let fields), .object(let object)):
            for entry in object.entries {
                guard let child = fields[entry.key] else {
                    if !Self.isAlwaysKept(entry.key, isRoot: isRoot) { report(entry.key) }
                    continue
                }
                guard !tree.isLeaf(child) else { continue }
                path.append(.key(entry.key))
                scan(entry.value, node: child)
                path.removeLast()
            }
        case (.map(let child), .object(let object)):
            for entry in object.entries {
                path.append(.key(entry.key))
                scan(entry.value, node: child)
                path.removeLast()
            }
        case (.array(let child), .array(let elements)):
            for (index, element) in elements.enumerated() {
                path.append(.index(index))
                scan(element, node: child)
                path.removeLast()
            }
        default:
            // Scalars, free-form values, and values of the wrong JSON type (validation reports those).
            return
        }
    }

    func remove(_ value: inout JSON, node: Int, isRoot: Bool = false) {
        switch (tree.nodes[node], value) {
        case (.object(let fields), .object(var object)):
            // Drop our reference so the entries array is uniquely owned and edited in place.
            value = .null
            object.entries.removeAll { fields[$0.key] == nil && !Self.isAlwaysKept($0.key, isRoot: isRoot) }
            for index in object.entries.indices {
                guard let child = fields[object.entries[index].key], !tree.isLeaf(child) else { continue }
                remove(&object.entries[index].value, node: child)
            }
            value = .object(object)
        case (.map(let child), .object(var object)):
            value = .null
            for index in object.entries.indices { remove(&object.entries[index].value, node: child) }
            value = .object(object)
        case (.array(let child), .array(var elements)):
            value = .null
            for index in elements.indices { remove(&elements[index], node: child) }
            value = .array(elements)
        default:
            return
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

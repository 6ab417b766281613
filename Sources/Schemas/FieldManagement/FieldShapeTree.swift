/// Every definition's `FieldShape`, resolved once when the registry is built, so a walk over an object
/// follows node indexes instead of resolving `$ref`s, copying schemas and reading list extensions at every
/// field (a pod's create spent a third of its field management there). Node 0 is the leaf.
struct FieldShapeTree: Sendable {
    enum Node: Sendable {
        case leaf
        case structure([String: Int])
        case map(Int)
        case associativeList(keys: [String], item: Int)
        case setList(item: Int)
    }

    private(set) var nodes: [Node] = [.leaf]
    /// Definition name to the node of the definition as `resolve` sees it.
    private(set) var roots: [String: Int] = [:]
    /// References whose referring node overrides an extension, by reference and overrides.
    private var overridden: [String: Int] = [:]

    init(definitions: [String: Schema]) {
        let names = definitions.keys.sorted()
        // Reserve every definition's index first so references resolve, even forward and cyclic ones.
        for name in names {
            roots[name] = nodes.count
            nodes.append(.leaf)
        }
        for name in names {
            guard let index = roots[name], let schema = definitions[name] else { continue }
            nodes[index] = node(for: SchemaRegistry.resolve(schema, in: definitions), definitions: definitions)
        }
    }

    /// The node of `FieldShape(resolve(schema))`.
    private mutating func add(_ schema: Schema, definitions: [String: Schema]) -> Int {
        if case .reference(let name) = schema.type {
            let overrides = [
                schema.patchStrategy ?? "", schema.patchMergeKey ?? "", schema.listType?.rawValue ?? "",
                schema.listMapKeys.joined(separator: ","), schema.mapType.map { "\($0)" } ?? "",
            ]
            guard overrides.contains(where: { !$0.isEmpty }) else { return roots[name] ?? 0 }
            let key = ([name] + overrides).joined(separator: "\u{0}")
            if let index = overridden[key] { return index }
            let index = nodes.count
            overridden[key] = index
            nodes.append(.leaf)
            nodes[index] = node(for: SchemaRegistry.resolve(schema, in: definitions), definitions: definitions)
            return index
        }
        let node = node(for: schema, definitions: definitions)
        if case .leaf = node { return 0 }
        nodes.append(node)
        return nodes.count - 1
    }

    /// The node of a resolved schema.
    private mutating func node(for schema: Schema, definitions: [String: Schema]) -> Node {
        switch FieldShape(schema) {
        case .leaf:
            return .leaf
        case .structure(let object):
            var fields: [String: Int] = [:]
            fields.reserveCapacity(object.properties.count)
            for (name, property) in object.properties { fields[name] = add(property, definitions: definitions) }
            return .structure(fields)
        case .map(let values):
            return .map(add(values, definitions: definitions))
        case .associativeList(let keys, let item):
            return .associativeList(keys: keys, item: add(item, definitions: definitions))
        case .setList(let item):
            return .setList(item: add(item, definitions: definitions))
        }
    }
}

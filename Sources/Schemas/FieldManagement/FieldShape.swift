import APIMachinery

/// How server-side apply sees one schema node: as a leaf owned whole, or as a container whose parts are
/// owned one by one. Lists follow `x-kubernetes-list-type`; a list without one falls back to its patch
/// strategy as upstream's schema conversion does (merge with a key → map, merge without → set), else atomic.
enum FieldShape {
    case leaf
    case structure(ObjectSchema)
    case map(Schema)
    case associativeList(keys: [String], item: Schema)
    case setList(item: Schema)

    init(_ schema: Schema?) {
        guard let schema else {
            self = .leaf
            return
        }
        switch schema.type {
        case .object(let object):
            self = schema.mapType == .atomic ? .leaf : .structure(object)
        case .map(let values):
            self = schema.mapType == .atomic ? .leaf : .map(values)
        case .array(let items):
            let strategy = (schema.patchStrategy ?? "").split(separator: ",")
            switch schema.listType {
            case .map? where !schema.listMapKeys.isEmpty:
                self = .associativeList(keys: schema.listMapKeys, item: items)
            case .set?:
                self = .setList(item: items)
            case .atomic?, .map?:
                self = .leaf
            case nil:
                if strategy.contains("merge"), let key = schema.patchMergeKey {
                    self = .associativeList(keys: [key], item: items)
                } else if strategy.contains("merge") {
                    self = .setList(item: items)
                } else {
                    self = .leaf
                }
            }
        case .reference, .primitive, .intOrString, .any:
            self = .leaf
        }
    }
}

/// Key fields the API server defaults when a list item leaves them out, as the published schemas declare
/// (`protocol` of container, service and endpoint ports); apply needs them to match the stored items.
let defaultedListKeys: [String: JSON] = ["protocol": "TCP"]

extension FieldShape {
    /// The path element naming a list item, or nil when the item cannot be named (not an object).
    static func element(ofItem item: JSON, keys: [String]) -> PathElement? {
        guard case .object(let object) = item else { return nil }
        var fields: [(name: String, value: JSON)] = []
        for key in keys {
            if let value = object[key], !value.isNull {
                fields.append((key, value))
            } else if let value = defaultedListKeys[key] {
                fields.append((key, value))
            }
        }
        return fields.isEmpty ? nil : .key(fields: fields)
    }

    /// Items of a map or set list with their path elements, the first of each duplicate kept; items that
    /// cannot be named are named by index.
    func namedItems(_ list: [JSON]) -> [(element: PathElement, value: JSON)] {
        var seen = Set<PathElement>()
        var result: [(element: PathElement, value: JSON)] = []
        result.reserveCapacity(list.count)
        for (index, item) in list.enumerated() {
            let element: PathElement
            switch self {
            case .associativeList(let keys, _): element = Self.element(ofItem: item, keys: keys) ?? .index(index)
            case .setList: element = .value(of: item)
            default: element = .index(index)
            }
            if seen.insert(element).inserted { result.append((element, item)) }
        }
        return result
    }
}

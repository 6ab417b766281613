public import APIMachinery

extension SchemaRegistry {
    /// Merges an applied configuration into the live object the way server-side apply does: structs and
    /// granular maps field by field, `map` lists item by key, `set` lists by value, everything else
    /// replaced whole. A null in the configuration removes the field.
    public func applyMerge(_ live: JSON, _ config: JSON, kind: GroupVersionKind) -> JSON {
        merge(live, config, schema: schema(for: kind).map(resolve)) ?? .object(JSONObject())
    }

    private func merge(_ live: JSON?, _ config: JSON, schema: Schema?) -> JSON? {
        if config.isNull { return nil }
        let shape = FieldShape(schema)
        switch (shape, live, config) {
        case (.structure(let object), .object(var result)?, .object(let fields)):
            for (name, value) in fields {
                result[name] = merge(result[name], value, schema: object.properties[name].map(resolve))
            }
            return .object(result)
        case (.map(let values), .object(var result)?, .object(let fields)):
            let valueSchema = resolve(values)
            for (name, value) in fields { result[name] = merge(result[name], value, schema: valueSchema) }
            return .object(result)
        case (.associativeList(_, let item), .array(let items)?, .array(let applied)),
            (.setList(let item), .array(let items)?, .array(let applied)):
            let itemSchema = resolve(item)
            var result = items
            var positions: [PathElement: Int] = [:]
            for (index, element) in items.indices.map({ ($0, Self.element(of: items[$0], at: $0, shape: shape)) }) {
                if positions[element] == nil { positions[element] = index }
            }
            for (element, value) in shape.namedItems(applied) {
                if let index = positions[element] {
                    if let merged = merge(result[index], value, schema: itemSchema) { result[index] = merged }
                } else {
                    positions[element] = result.count
                    result.append(value)
                }
            }
            return .array(result)
        default:
            return Self.withoutNulls(config)
        }
    }

    private static func element(of item: JSON, at index: Int, shape: FieldShape) -> PathElement {
        switch shape {
        case .associativeList(let keys, _): FieldShape.element(ofItem: item, keys: keys) ?? .index(index)
        case .setList: .value(of: item)
        default: .index(index)
        }
    }

    /// A configuration value taken whole, without the nulls that only mean "not set".
    private static func withoutNulls(_ value: JSON) -> JSON {
        guard case .object(let object) = value else { return value }
        return .object(
            JSONObject(object.entries.compactMap { $0.value.isNull ? nil : ($0.key, withoutNulls($0.value)) }))
    }

    /// Removes the given paths from an object; a removed path takes everything below it along.
    public func remove(_ fields: FieldSet, from object: JSON, kind: GroupVersionKind) -> JSON {
        remove(fields, from: object, schema: schema(for: kind).map(resolve))
    }

    private func remove(_ fields: FieldSet, from value: JSON, schema: Schema?) -> JSON {
        let shape = FieldShape(schema)
        switch value {
        case .object(var object):
            for element in fields.members {
                if case .field(let name) = element { object[name] = nil }
            }
            for (element, below) in fields.children where !fields.members.contains(element) {
                guard case .field(let name) = element, let child = object[name] else { continue }
                let childSchema: Schema?
                switch shape {
                case .structure(let structure): childSchema = structure.properties[name].map(resolve)
                case .map(let values): childSchema = resolve(values)
                default: childSchema = nil
                }
                object[name] = remove(below, from: child, schema: childSchema)
            }
            return .object(object)
        case .array(let items):
            let itemSchema: Schema?
            switch shape {
            case .associativeList(_, let item), .setList(let item): itemSchema = resolve(item)
            default: return value
            }
            var result: [JSON] = []
            result.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                let element = Self.element(of: item, at: index, shape: shape)
                if fields.members.contains(element) { continue }
                if let below = fields.children[element] {
                    result.append(remove(below, from: item, schema: itemSchema))
                } else {
                    result.append(item)
                }
            }
            return .array(result)
        default:
            return value
        }
    }
}

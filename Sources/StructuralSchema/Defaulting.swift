import APIMachinery

/// Upstream's defaulting (`pkg/apiserver/schema/defaulting`). `JSON` is a value type, so every default put in
/// place is already its own copy.
enum Defaulting {
    /// Fills missing members, and nulls where the schema is not nullable, from `default`.
    static func apply(_ value: inout JSON, _ schema: SchemaNode) {
        switch value {
        case .object(var object):
            for (name, property) in schema.properties {
                guard let defaultValue = property.defaultValue else { continue }
                if let current = object[name], !isNonNullableNull(current, property) { continue }
                object[name] = defaultValue
            }
            for index in object.entries.indices {
                let key = object.entries[index].key
                if let property = schema.property(key) {
                    apply(&object.entries[index].value, property)
                } else if let additional = schema.additionalPropertiesSchema {
                    if isNonNullableNull(object.entries[index].value, additional) {
                        object.entries[index].value = additional.defaultValue ?? .null
                    }
                    apply(&object.entries[index].value, additional)
                }
            }
            value = .object(object)
        case .array(var array):
            guard let items = schema.items else { return }
            for index in array.indices {
                if isNonNullableNull(array[index], items) { array[index] = items.defaultValue ?? .null }
                apply(&array[index], items)
            }
            value = .array(array)
        default:
            break
        }
    }

    /// Drops members that are null where the schema neither allows null nor has a default to put there.
    static func pruneNonNullableNulls(_ value: inout JSON, _ schema: SchemaNode?) {
        switch value {
        case .object(let object):
            var kept = JSONObject()
            for (key, member) in object {
                let child = schema?.schema(forMember: key)
                if let child, member.isNull, !child.nullable, child.defaultValue == nil { continue }
                var member = member
                pruneNonNullableNulls(&member, child)
                kept.entries.append((key, member))
            }
            value = .object(kept)
        case .array(var array):
            for index in array.indices { pruneNonNullableNulls(&array[index], schema?.items) }
            value = .array(array)
        default:
            break
        }
    }

    private static func isNonNullableNull(_ value: JSON, _ schema: SchemaNode) -> Bool {
        value.isNull && !schema.nullable
    }
}

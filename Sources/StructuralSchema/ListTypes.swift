import APIMachinery

/// Uniqueness of `x-kubernetes-list-type: set` items and of `map` items' keys (upstream's `listtype`).
enum ListTypes {
    static func validate(_ value: JSON, against schema: SchemaNode?, path: String) -> [FieldError] {
        guard let schema else { return [] }
        switch value {
        case .array(let array):
            var errors: [FieldError] = []
            switch schema.listType {
            case "set":
                errors += duplicates(array).map { .duplicate(Path.index(path, $0), array[$0]) }
            case "map":
                errors += mapKeys(array, keys: schema.listMapKeys, path: path)
            default:
                break
            }
            for (index, item) in array.enumerated() {
                errors += validate(item, against: schema.items, path: Path.index(path, index))
            }
            return errors
        case .object(let object):
            var errors: [FieldError] = []
            for (key, member) in object {
                if let property = schema.property(key) {
                    errors += validate(member, against: property, path: Path.child(path, key))
                } else if let additional = schema.additionalPropertiesSchema {
                    errors += validate(member, against: additional, path: Path.key(path, key))
                }
            }
            return errors
        default:
            return []
        }
    }

    /// Indices of the second occurrence of each repeated value, as upstream reports them.
    private static func duplicates(_ values: [JSON]) -> [Int] {
        var seen: [JSON: Int] = [:]
        var indices: [Int] = []
        for (index, value) in values.enumerated() {
            let times = seen[value, default: 0]
            if times == 1 { indices.append(index) }
            seen[value] = times + 1
        }
        return indices
    }

    private static func mapKeys(_ items: [JSON], keys: [String], path: String) -> [FieldError] {
        for (index, item) in items.enumerated() where item.objectValue == nil && !item.isNull {
            return [.invalid(Path.index(path, index), item, "must be an object for an array of list-type map")]
        }
        guard items.count > 1 else { return [] }
        // A missing key and a missing item count as one "unspecified" value, which may appear once.
        let keyValues: [JSON] = items.map { item in
            var key = JSONObject()
            for name in keys { if let value = item[name] { key[name] = value } }
            return .object(key)
        }
        return duplicates(keyValues).map { .duplicate(Path.index(path, $0), keyValues[$0]) }
    }
}

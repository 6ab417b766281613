import APIMachinery

/// Upstream's pruning (`pkg/apiserver/schema/pruning`): drops what the schema does not declare, unless
/// `x-kubernetes-preserve-unknown-fields` keeps it; known fields below preserved ones are still pruned.
enum Pruning {
    static let metaFields: Set<String> = ["apiVersion", "kind", "metadata"]

    /// Prunes a resource (the root is an embedded resource, so its type and object meta stay); returns the
    /// removed paths, sorted.
    static func prune(_ object: inout JSON, _ root: SchemaNode, isEmbedded: Bool = true) -> [String] {
        var removed: [String] = []
        prune(&object, root, isEmbedded: isEmbedded, path: "", removed: &removed)
        return removed.sorted()
    }

    private static func prune(
        _ value: inout JSON, _ schema: SchemaNode?, isEmbedded: Bool, path: String, removed: inout [String]
    ) {
        if let schema, schema.preserveUnknownFields {
            skipPrune(&value, schema, isEmbedded: isEmbedded, path: path, removed: &removed)
            return
        }
        switch value {
        case .object(var object):
            var kept = JSONObject()
            for (key, member) in object {
                let childPath = join(path, key)
                if isEmbedded && metaFields.contains(key) {
                    kept.entries.append((key, member))
                } else if let schema, let child = schema.schema(forMember: key) {
                    var member = member
                    prune(&member, child, isEmbedded: child.embeddedResource, path: childPath, removed: &removed)
                    kept.entries.append((key, member))
                } else if schema == nil || !metaFields.contains(key) || !path.isEmpty {
                    removed.append(childPath)
                }
            }
            object = kept
            value = .object(object)
        case .array(var array):
            for index in array.indices {
                prune(
                    &array[index], schema?.items, isEmbedded: schema?.items?.embeddedResource ?? false,
                    path: path + "[\(index)]", removed: &removed)
            }
            value = .array(array)
        default:
            break
        }
    }

    private static func skipPrune(
        _ value: inout JSON, _ schema: SchemaNode, isEmbedded: Bool, path: String, removed: inout [String]
    ) {
        switch value {
        case .object(var object):
            for index in object.entries.indices {
                let key = object.entries[index].key
                if isEmbedded && metaFields.contains(key) { continue }
                guard let child = schema.schema(forMember: key) else { continue }
                prune(
                    &object.entries[index].value, child, isEmbedded: child.embeddedResource, path: join(path, key),
                    removed: &removed)
            }
            value = .object(object)
        case .array(var array):
            guard let items = schema.items else { return }
            for index in array.indices {
                skipPrune(
                    &array[index], items, isEmbedded: items.embeddedResource, path: path + "[\(index)]",
                    removed: &removed)
            }
            value = .array(array)
        default:
            break
        }
    }

    private static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : path + "." + key
    }
}

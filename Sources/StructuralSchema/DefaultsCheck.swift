import APIMachinery

/// Upstream's `ValidateDefaults`: every `default` must already be pruned and must validate against the schema it
/// sits in, so a defaulted object is never one the server would refuse.
enum DefaultsCheck {
    static func validate(_ schema: SchemaNode, at path: String, insideMeta: Bool, isRoot: Bool) -> [FieldError] {
        var errors: [FieldError] = []
        // ObjectMeta defaults are checked as metadata by the server; the rest must fit their schema here.
        if let value = schema.defaultValue, !insideMeta {
            let defaultPath = Path.child(path, "default")
            var pruned = value
            let unknown = Pruning.prune(&pruned, schema, isEmbedded: schema.embeddedResource)
            if !unknown.isEmpty {
                errors.append(.invalid(defaultPath, value, "must not have unknown fields"))
            }
            errors += ValueValidator(pathPrefix: defaultPath).validate(value, against: schema)
        }
        if let items = schema.items {
            errors += validate(items, at: Path.child(path, "items"), insideMeta: insideMeta, isRoot: false)
        }
        for (name, property) in schema.properties {
            let meta = insideMeta || ((isRoot || schema.embeddedResource) && name == "metadata")
            errors += validate(
                property, at: Path.key(Path.child(path, "properties"), name), insideMeta: meta, isRoot: false)
        }
        return errors
    }
}

import Component

/// `--controllers` as upstream reads it: `*` turns on every controller enabled by default, `name` turns one on,
/// `-name` turns one off; names may be upstream's current ones or their older aliases.
struct ControllerSelection: Sendable, Equatable {
    /// Canonical names of the controllers to run.
    let enabled: Set<String>

    init(_ items: [String], known: [ControllerDescriptor]) throws(FlagError) {
        var canonical: [String: ControllerDescriptor] = [:]
        for descriptor in known {
            canonical[descriptor.name] = descriptor
            for alias in descriptor.aliases { canonical[alias] = descriptor }
        }
        var on = Set<String>()
        var off = Set<String>()
        var star = false
        for item in items {
            if item == "*" {
                star = true
                continue
            }
            let negated = item.hasPrefix("-")
            let name = negated ? String(item.dropFirst()) : item
            guard let descriptor = canonical[name] else {
                throw FlagError(
                    message:
                        "\"\(name)\" is not in the list of known controllers (--controllers=\(items.joined(separator: ",")))"
                )
            }
            if negated { off.insert(descriptor.name) } else { on.insert(descriptor.name) }
        }
        if star { on.formUnion(known.filter(\.enabledByDefault).map(\.name)) }
        enabled = on.subtracting(off)
    }
}

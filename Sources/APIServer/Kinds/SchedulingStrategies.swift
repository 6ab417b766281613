import APIMachinery

/// scheduling.k8s.io PriorityClasses: cluster-scoped, `system-` names reserved for the two classes the server
/// creates at start-up, user values capped at one billion, value and preemption policy fixed once created.
/// Only one class may be the global default; the `Priority` admission plugin checks that, as upstream's does.
struct PriorityClassStrategy: Strategy {
    /// Upstream's `SystemPriorityClassPrefix`.
    static let systemPrefix = "system-"
    /// Upstream's `HighestUserDefinablePriority`.
    static let highestUserDefinablePriority: Int64 = 1_000_000_000
    static let preemptionPolicies = ["PreemptLowerPriority", "Never"]

    /// Upstream sets generation 1 on create and never bumps it.
    var generation: GenerationRule { .tracked(by: []) }

    /// The classes upstream's scheduling bootstrap hook keeps present: name, value and description.
    static let systemClasses: [(name: String, value: Int64, description: String)] = [
        (
            "system-node-critical", 2_000_001_000,
            "Used for system critical pods that must not be moved from their current node."
        ),
        (
            "system-cluster-critical", 2_000_000_000,
            "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."
        ),
    ]

    /// A system class as the bootstrap creates it.
    static func systemClass(_ name: String, value: Int64, description: String) -> JSON {
        [
            "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": ["name": .string(name)],
            "value": .int(value), "description": .string(description),
        ]
    }

    func applyDefaults(_ object: inout JSON) {
        if object["preemptionPolicy"] == nil { object["preemptionPolicy"] = "PreemptLowerPriority" }
        // Go's encoder omits a false `globalDefault`, so upstream never echoes one.
        if object["globalDefault"]?.boolValue == false { object["globalDefault"] = nil }
    }

    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        let name = object.name ?? ""
        let value = object["value"]?.intValue ?? 0
        if name.hasPrefix(Self.systemPrefix) {
            if let problem = Self.systemClassProblem(name, value: value, globalDefault: object.isGlobalDefault) {
                errors.append(
                    .forbidden(
                        "metadata.name",
                        "priority class names with '\(Self.systemPrefix)' prefix are reserved for system use only. error: \(problem)"
                    ))
            }
        } else if value > Self.highestUserDefinablePriority {
            errors.append(
                .forbidden(
                    "value", "maximum allowed value of a user defined priority is \(Self.highestUserDefinablePriority)")
            )
        }
        if let policy = object["preemptionPolicy"], !Self.preemptionPolicies.contains(policy.stringValue ?? "") {
            errors.append(.notSupported("preemptionPolicy", policy, Self.preemptionPolicies))
        }
        return errors
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        if (object["value"]?.intValue ?? 0) != (old["value"]?.intValue ?? 0) {
            errors.append(.forbidden("value", "may not be changed in an update."))
        }
        if object["preemptionPolicy"] != old["preemptionPolicy"] {
            errors.append(.invalid("preemptionPolicy", object["preemptionPolicy"] ?? .null, "field is immutable"))
        }
        return errors
    }

    /// Upstream's `IsKnownSystemPriorityClass` error, or nil for a system class as the server defines it.
    static func systemClassProblem(_ name: String, value: Int64, globalDefault: Bool) -> String? {
        guard let known = systemClasses.first(where: { $0.name == name }) else {
            return "\(name) is not a known system priority class"
        }
        if known.value != value { return "value of \(name) PriorityClass must be \(known.value)" }
        if globalDefault { return "globalDefault of \(name) PriorityClass must be false" }
        return nil
    }

    func checkDelete(_ object: JSON) throws {
        let name = object.name ?? ""
        if Self.systemClasses.contains(where: { $0.name == name }) {
            throw APIError(
                code: 403, reason: .forbidden,
                message:
                    "priorityclasses.scheduling.k8s.io \"\(name)\" is forbidden: this is a system priority class and cannot be deleted",
                details: ["name": .string(name), "group": "scheduling.k8s.io", "kind": "priorityclasses"])
        }
    }

    var columns: [Table.Column] {
        [
            .name, Table.Column("Value", type: "integer"), Table.Column("Global-Default", type: "boolean"), .age,
            Table.Column("PreemptionPolicy"),
        ]
    }

    func cells(_ object: JSON) -> [JSON] {
        [
            Cells.name(object), Cells.int(object["value"]), .bool(object.isGlobalDefault), Cells.age(object),
            Cells.string(object["preemptionPolicy"], default: ""),
        ]
    }
}

/// node.k8s.io RuntimeClasses: a handler name (a DNS label, immutable) and optional overhead and scheduling.
struct RuntimeClassStrategy: Strategy {
    func validate(_ object: JSON) -> [FieldError] {
        guard let handler = object["handler"]?.stringValue, !handler.isEmpty else { return [.required("handler", "")] }
        return NameValidation.dns1123Label(handler).map { .invalid("handler", .string(handler), $0) }
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        if object["handler"] != old["handler"] {
            errors.append(.invalid("handler", object["handler"] ?? .null, "field is immutable"))
        }
        return errors
    }

    var columns: [Table.Column] { [.name, Table.Column("Handler"), .age] }
    func cells(_ object: JSON) -> [JSON] {
        [Cells.name(object), Cells.string(object["handler"], default: ""), Cells.age(object)]
    }
}

extension JSON {
    /// A PriorityClass's `globalDefault`, false when absent.
    var isGlobalDefault: Bool { self["globalDefault"]?.boolValue ?? false }
}

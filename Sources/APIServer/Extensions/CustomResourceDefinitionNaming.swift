import APIMachinery

/// Upstream's naming and establishing controllers as one pure step: which of a definition's requested names
/// it may have (`status.acceptedNames`), its `NamesAccepted` condition, and `Established` once names are
/// accepted. Names are claimed per group, by the accepted names of the group's other definitions.
struct CustomResourceDefinitionNaming {
    /// Plurals, singulars and short names (`resources`), and kinds and list kinds (`kinds`), already accepted.
    var resources: Set<String> = []
    var kinds: Set<String> = []

    /// The claims of every definition in the group but the one being named.
    init(others: [CustomResourceDefinitionView]) {
        for other in others {
            let accepted = other.acceptedNames
            for field in ["plural", "singular"] {
                if let name = accepted[field]?.stringValue, !name.isEmpty { resources.insert(name) }
            }
            for shortName in accepted["shortNames"]?.arrayValue ?? [] {
                if let name = shortName.stringValue { resources.insert(name) }
            }
            for field in ["kind", "listKind"] {
                if let name = accepted[field]?.stringValue, !name.isEmpty { kinds.insert(name) }
            }
        }
    }

    private struct Conflict: Error {
        let message: String
    }

    /// A name is fine when it is what the definition already has, or when nobody else has it.
    private static func check(_ requested: String, accepted: String, used: Set<String>) -> Conflict? {
        if requested == accepted || !used.contains(requested) { return nil }
        return Conflict(message: "\"\(requested)\" is already in use")
    }

    /// The definition with its accepted names and its NamesAccepted and Established conditions brought up to date.
    func named(_ input: JSON) -> JSON {
        var object = input
        let view = CustomResourceDefinitionView(input)
        let requested = view.names
        let accepted = view.acceptedNames
        var names = accepted.objectValue ?? JSONObject()
        var failure: (reason: String, message: String)?
        func claim(_ field: String, reason: String, used: Set<String>) {
            let wanted = requested[field]?.stringValue ?? ""
            if let conflict = Self.check(wanted, accepted: accepted[field]?.stringValue ?? "", used: used) {
                failure = (reason, conflict.message)
            } else {
                names[field] = .string(wanted)
            }
        }
        claim("plural", reason: "PluralConflict", used: resources)
        claim("singular", reason: "SingularConflict", used: resources)
        let wantedShortNames = requested["shortNames"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let acceptedShortNames = accepted["shortNames"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if wantedShortNames != acceptedShortNames {
            let conflicts = wantedShortNames.filter { !acceptedShortNames.contains($0) }.compactMap {
                Self.check($0, accepted: "", used: resources)?.message
            }
            if conflicts.isEmpty {
                names["shortNames"] = wantedShortNames.isEmpty ? nil : .array(wantedShortNames.map(JSON.string))
            } else {
                failure = (
                    "ShortNamesConflict", conflicts.count == 1 ? conflicts[0] : "[\(conflicts.joined(separator: ", "))]"
                )
            }
        }
        claim("kind", reason: "KindConflict", used: kinds)
        claim("listKind", reason: "ListKindConflict", used: kinds)
        names["categories"] = requested["categories"].flatMap { $0.arrayValue?.isEmpty == false ? $0 : nil }
        object.set(["status", "acceptedNames"], to: .object(names))

        if let failure {
            setCustomResourceDefinitionCondition(
                &object, type: "NamesAccepted", status: "False", reason: failure.reason, message: failure.message)
        } else {
            setCustomResourceDefinitionCondition(
                &object, type: "NamesAccepted", status: "True", reason: "NoConflicts", message: "no conflicts found")
        }
        // Established stays once reached; before that it follows NamesAccepted (upstream's establishing
        // controller sets it right after the names are accepted, which here is the same step).
        if view.condition("Established") != "True" {
            if failure == nil {
                setCustomResourceDefinitionCondition(
                    &object, type: "Established", status: "True", reason: "InitialNamesAccepted",
                    message: "the initial names have been accepted")
            } else {
                setCustomResourceDefinitionCondition(
                    &object, type: "Established", status: "False", reason: "NotAccepted",
                    message: "not all names are accepted")
            }
        }
        return object
    }
}

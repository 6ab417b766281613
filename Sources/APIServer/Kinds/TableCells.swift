import APIMachinery

/// Small helpers the table printers of several kinds share.
enum Cells {
    static func name(_ object: JSON) -> JSON { .string(object.name ?? "") }
    static func age(_ object: JSON) -> JSON { .string(Timestamp.age(of: object.creationTimestamp)) }
    static func int(_ value: JSON?) -> JSON { .int(value?.intValue ?? 0) }
    static func string(_ value: JSON?, default fallback: String = "<none>") -> JSON {
        guard let text = value?.stringValue, !text.isEmpty else { return .string(fallback) }
        return .string(text)
    }

    /// Containers' names and images joined by commas, for `-o wide`.
    static func containers(_ podSpec: JSON?) -> (names: JSON, images: JSON) {
        let containers = podSpec?["containers"]?.arrayValue ?? []
        return (
            .string(containers.compactMap { $0["name"]?.stringValue }.joined(separator: ",")),
            .string(containers.compactMap { $0["image"]?.stringValue }.joined(separator: ","))
        )
    }

    /// A label selector printed as `kubectl` shows it, from a `LabelSelector` object or a plain map.
    static func selector(_ value: JSON?) -> JSON {
        guard let value, let object = value.objectValue, !object.isEmpty else { return "<none>" }
        if object["matchLabels"] != nil || object["matchExpressions"] != nil {
            guard let selector = try? LabelSelector(object: value), !selector.isEverything else { return "<none>" }
            return .string(selector.description)
        }
        return .string(object.entries.map { "\($0.key)=\($0.value.stringValue ?? "")" }.joined(separator: ","))
    }

    static let wideContainers: [Table.Column] = [
        Table.Column("Containers", priority: 1), Table.Column("Images", priority: 1),
        Table.Column("Selector", priority: 1),
    ]
}

/// A strategy for kinds that need nothing but their own table columns (and perhaps defaults).
struct ColumnsStrategy: Strategy {
    let columns: [Table.Column]
    let cellsFor: @Sendable (JSON) -> [JSON]
    var tracksGeneration: Bool = false
    var allowCreateOnUpdate: Bool = false
    var nameRule: @Sendable (String) -> [String] = NameValidation.dns1123Subdomain
    /// The kind's upstream defaults, if it has any.
    var defaults: (@Sendable (inout JSON) -> Void)?
    /// The kind's generation rule when it is not the one `tracksGeneration` implies.
    var generationRule: GenerationRule?

    var generation: GenerationRule { generationRule ?? (tracksGeneration ? .spec : .untracked) }

    func cells(_ object: JSON) -> [JSON] { cellsFor(object) }
    func applyDefaults(_ object: inout JSON) { defaults?(&object) }
    func validateName(_ name: String) -> [String] { nameRule(name) }
}

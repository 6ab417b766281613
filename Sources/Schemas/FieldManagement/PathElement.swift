public import APIMachinery

/// One step of a field path in server-side apply's FieldsV1 format: a field name, the key of an item of a
/// `map` list, the value of an item of a `set` list, or an index into a list with no identity for its items.
public enum PathElement: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// `f:<name>`: a field of a struct or an entry of a map.
    case field(String)
    /// `k:<json>`: a `map` list item, named by its key fields as a JSON object with sorted keys.
    case key(String)
    /// `v:<json>`: a `set` list item, named by its value.
    case value(String)
    /// `i:<index>`: a list item named by its position.
    case index(Int)

    /// The key of a list item from its key fields, in the canonical form FieldsV1 uses.
    public static func key(fields: [(name: String, value: JSON)]) -> PathElement {
        let sorted = fields.sorted { $0.name < $1.name }
        return .key(
            String(decoding: JSON.object(JSONObject(sorted.map { ($0.name, $0.value) })).encoded(), as: UTF8.self))
    }

    /// The element of a `set` list item.
    public static func value(of value: JSON) -> PathElement {
        .value(String(decoding: value.encoded(), as: UTF8.self))
    }

    /// The key this element has in a FieldsV1 object.
    public var fieldsV1Key: String {
        switch self {
        case .field(let name): "f:" + name
        case .key(let json): "k:" + json
        case .value(let json): "v:" + json
        case .index(let index): "i:" + String(index)
        }
    }

    /// Reads a FieldsV1 key; nil for anything that is not one.
    public init?(fieldsV1Key key: String) {
        guard key.count >= 2, key.dropFirst().first == ":" else { return nil }
        let rest = String(key.dropFirst(2))
        switch key.first {
        case "f": self = .field(rest)
        // Every write reads the live managedFields back, so keys are checked for shape, not parsed; a key
        // that is not the JSON this server writes never matches a computed one.
        case "k":
            guard rest.utf8.first == UInt8(ascii: "{"), rest.utf8.last == UInt8(ascii: "}") else { return nil }
            self = .key(rest)
        case "v":
            guard !rest.isEmpty else { return nil }
            self = .value(rest)
        case "i":
            guard let index = Int(rest), index >= 0 else { return nil }
            self = .index(index)
        default: return nil
        }
    }

    /// Upstream's text for the element in conflict messages: `.name`, `[name="web"]`, `[="a"]`, `[0]`.
    public var description: String {
        switch self {
        case .field(let name): return "." + name
        case .key(let json):
            let fields = (try? JSON.parse(json))?.objectValue?.entries ?? []
            return "[" + fields.map { "\($0.key)=\($0.value.jsonString)" }.joined(separator: ",") + "]"
        case .value(let json): return "[=\(json)]"
        case .index(let index): return "[\(index)]"
        }
    }

    /// Upstream's order: fields, then keys, then values, then indexes; within a kind by text or number.
    public static func < (lhs: PathElement, rhs: PathElement) -> Bool {
        switch (lhs, rhs) {
        case (.field(let a), .field(let b)), (.key(let a), .key(let b)), (.value(let a), .value(let b)): return a < b
        case (.index(let a), .index(let b)): return a < b
        default: return lhs.rank < rhs.rank
        }
    }

    private var rank: Int {
        switch self {
        case .field: 0
        case .key: 1
        case .value: 2
        case .index: 3
        }
    }
}

/// A path from an object's root to one of its fields.
public typealias FieldPath = [PathElement]

extension Array where Element == PathElement {
    /// Upstream's text for a path: `.spec.template.spec.containers[name="web"].image`.
    public var pathDescription: String { map(\.description).joined() }
}

import APIMachinery

// The conversions generated models are built from. Decoding is one walk over the parsed JSON tree;
// an error carries the path of the field below where it happened, and each enclosing field prefixes
// its own name on the way out, so the path is only assembled when something is wrong.

/// A value a model field can hold: a scalar, `Quantity`, free-form `JSON`, a nested model or an array of these.
protocol ModelValue: Sendable, Hashable {
    init(modelJSON: JSON) throws(ModelError)
    var modelJSON: JSON { get }
    /// Whether every value equal to `value` encodes exactly as it does, so decoded copies may share one
    /// (`SharedValues`); false unless the type says otherwise.
    static func encodesIdentically(_ value: Self) -> Bool
}

extension ModelValue {
    static func encodesIdentically(_ value: Self) -> Bool { false }
}

extension ModelValue where Self: JSONModel {
    init(modelJSON: JSON) throws(ModelError) { try self.init(json: modelJSON) }
    var modelJSON: JSON { toJSON() }
}

extension ModelError {
    /// The wrong-type error upstream's decoder would report, e.g. `expected integer, got string`.
    static func expected(_ type: String, got json: JSON) -> ModelError {
        ModelError(path: "", message: "expected \(type), got \(json.typeName)")
    }

    /// This error seen from the enclosing field `key` (a name, or `[3]` / `[key]` for an element).
    func under(_ key: String) -> ModelError {
        if path.isEmpty { return ModelError(path: key, message: message) }
        return ModelError(path: path.first == "[" ? key + path : key + "." + path, message: message)
    }
}

extension String: ModelValue {
    /// The value, shared with other objects' equal values (`SharedValues`).
    init(modelJSON: JSON) throws(ModelError) {
        guard case .string(let value) = modelJSON else { throw .expected("string", got: modelJSON) }
        self = SharedValues.shared(value)
    }
    var modelJSON: JSON { .string(self) }
}

extension Bool: ModelValue {
    init(modelJSON: JSON) throws(ModelError) {
        guard case .bool(let value) = modelJSON else { throw .expected("boolean", got: modelJSON) }
        self = value
    }
    var modelJSON: JSON { .bool(self) }
}

extension Int64: ModelValue {
    init(modelJSON: JSON) throws(ModelError) {
        // Go's decoder takes `3.0` for an integer field but not `3.5`; `intValue` draws the same line.
        guard let value = modelJSON.intValue else { throw .expected("integer", got: modelJSON) }
        self = value
    }
    var modelJSON: JSON { .int(self) }
}

extension Int32: ModelValue {
    init(modelJSON: JSON) throws(ModelError) {
        let wide = try Int64(modelJSON: modelJSON)
        guard let value = Int32(exactly: wide) else {
            throw ModelError(path: "", message: "integer \(wide) out of range for int32")
        }
        self = value
    }
    var modelJSON: JSON { .int(Int64(self)) }
}

extension Double: ModelValue {
    init(modelJSON: JSON) throws(ModelError) {
        guard let value = modelJSON.doubleValue else { throw .expected("number", got: modelJSON) }
        self = value
    }
    var modelJSON: JSON { .double(self) }
}

extension Quantity: ModelValue {
    init(modelJSON: JSON) throws(ModelError) {
        do {
            try self.init(json: modelJSON)
        } catch {
            throw ModelError(path: "", message: "invalid quantity: \(error.description)")
        }
    }
    var modelJSON: JSON { json }
}

extension JSON: ModelValue {
    init(modelJSON: JSON) { self = modelJSON }
    var modelJSON: JSON { self }
}

extension Array: ModelValue where Element: ModelValue {
    init(modelJSON: JSON) throws(ModelError) {
        guard case .array(let items) = modelJSON else { throw .expected("array", got: modelJSON) }
        var result: [Element] = []
        result.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            do {
                result.append(try Element(modelJSON: item))
            } catch {
                throw error.under("[\(index)]")
            }
        }
        self = result
    }
    var modelJSON: JSON { .array(map(\.modelJSON)) }
}

/// Reads one field of a model; `null` counts as absent, as it does for Go's decoder.
enum ModelField {
    /// The fields of `json`, which must be an object.
    static func object(_ json: JSON) throws(ModelError) -> JSONObject {
        guard case .object(let object) = json else { throw .expected("object", got: json) }
        return object
    }

    static func value<T: ModelValue>(_ json: JSON, _ key: String) throws(ModelError) -> T? {
        if case .null = json { return nil }
        do {
            return try T(modelJSON: json)
        } catch {
            throw error.under(key)
        }
    }

    /// A string field: shared with other objects' equal values unless the field identifies its object.
    static func value(_ json: JSON, _ key: String) throws(ModelError) -> String? {
        switch json {
        case .null: return nil
        case .string(let value): return SharedValues.shared(value, field: key)
        default: throw ModelError.expected("string", got: json).under(key)
        }
    }

    /// An array field, shared with other objects' equal arrays where that is exact (`SharedValues`).
    static func array<T: ModelValue>(_ json: JSON, _ key: String) throws(ModelError) -> [T] {
        let values: [T] = try value(json, key) ?? []
        return SharedValues.sharedArray(values, field: key)
    }

    /// An optional nested model in its box, shared with other decodes of the same source (`SharedDecodedValues`).
    static func boxed<T: ModelValue>(_ json: JSON, _ key: String) throws(ModelError) -> Boxed<T> {
        try SharedDecodedValues.boxed(json) { () throws(ModelError) -> T? in try value(json, key) }
    }

    static func map<T: ModelValue>(_ json: JSON, _ key: String) throws(ModelError) -> [String: T] {
        switch json {
        case .null:
            return [:]
        case .object(let object):
            var result: [String: T] = [:]
            result.reserveCapacity(object.count)
            for entry in object {
                do {
                    result[SharedValues.shared(entry.key)] = try T(modelJSON: entry.value)
                } catch {
                    throw error.under("[\(entry.key)]").under(key)
                }
            }
            return SharedValues.sharedMap(result, field: key)
        default:
            throw ModelError.expected("object", got: json).under(key)
        }
    }
}

extension JSONObject {
    /// Writes `value` unless it is absent.
    mutating func put<T: ModelValue>(_ key: String, _ value: T?) {
        if let value { entries.append((key, value.modelJSON)) }
    }

    /// Writes `values` unless empty (Go's `omitempty`).
    mutating func putArray<T: ModelValue>(_ key: String, _ values: [T]) {
        if !values.isEmpty { entries.append((key, values.modelJSON)) }
    }

    /// Writes `values` unless empty, keys sorted as Go's encoder sorts them, so equal maps encode equally.
    mutating func putMap<T: ModelValue>(_ key: String, _ values: [String: T]) {
        guard !values.isEmpty else { return }
        let sorted = values.sorted { $0.key < $1.key }
        entries.append((key, .object(JSONObject(sorted.map { (key: $0.key, value: $0.value.modelJSON) }))))
    }

    /// Writes a kind's `spec` or `status` unless it encodes to an empty object.
    mutating func putUnlessEmpty<T: JSONModel>(_ key: String, _ value: T) {
        let json = value.toJSON()
        if case .object(let object) = json, object.isEmpty { return }
        entries.append((key, json))
    }
}

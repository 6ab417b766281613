/// Protobuf scalar types, as written in .proto files.
enum ProtobufScalar: String, Sendable {
    case double, float, int32, int64, uint32, uint64, sint32, sint64
    case fixed32, fixed64, sfixed32, sfixed64, bool, string, bytes

    /// The wire type a single (unpacked) value of this type uses.
    var wireType: ProtobufWireType {
        switch self {
        case .double, .fixed64, .sfixed64: return .fixed64
        case .float, .fixed32, .sfixed32: return .fixed32
        case .string, .bytes: return .lengthDelimited
        default: return .varint
        }
    }
}

/// What a field or map value holds: a scalar, or a message by its index in the schema.
enum ProtobufValueType: Sendable {
    case scalar(ProtobufScalar)
    case message(Int)

    var wireType: ProtobufWireType {
        switch self {
        case .scalar(let scalar): return scalar.wireType
        case .message: return .lengthDelimited
        }
    }
}

/// Messages whose JSON form is not an object of their fields, after Go's custom marshalling.
enum ProtobufSpecial: String, Sendable {
    case time, microtime, duration, quantity, intorstring, rawextension, fieldsv1
    /// A Go `[]string` type (ExtraValue, Verbs) wrapped in a message with `repeated string items = 1`.
    case list
}

struct ProtobufField: Sendable {
    var number: Int
    var jsonName: String
    var value: ProtobufValueType
    /// The key type of a `map<K, V>` field; the value type is `value`.
    var mapKey: ProtobufScalar?
    var isRepeated: Bool
    /// A non-pointer Go field tagged `omitempty`: a zero value on the wire is left out of JSON.
    var omitsZero: Bool
    /// A Go struct embedded with `json:",inline"`: its fields join the parent object.
    var isInline: Bool
}

struct ProtobufMessage: Sendable {
    var name: String
    var special: ProtobufSpecial?
    /// Sorted by field number, which is the order fields appear in JSON.
    var fields: [ProtobufField] = []
    /// Field number → index into `fields`, or -1; Kubernetes field numbers are small and dense.
    var slotByNumber: [Int] = []

    func slot(for number: Int) -> Int? {
        guard number < slotByNumber.count else { return nil }
        let slot = slotByNumber[number]
        return slot >= 0 ? slot : nil
    }
}

/// The generated field table (ProtobufFields.swift), parsed once into indexed messages.
struct ProtobufSchema: Sendable {
    var messages: [ProtobufMessage] = []
    /// "apiVersion kind" → message index.
    var kinds: [String: Int] = [:]
    var deleteOptions: Int?

    /// The parsed table; a malformed table is reported by every decode (and by the tests).
    static let shared: Result<ProtobufSchema, ProtobufDecodeError> = Result { () throws(ProtobufDecodeError) in
        try ProtobufSchema(table: table)
    }

    func message(forAPIVersion apiVersion: String, kind: String) -> Int? {
        if let index = kinds[apiVersion + " " + kind] { return index }
        // Typed clients label DeleteOptions with the group version of the resource being deleted.
        return kind == "DeleteOptions" ? deleteOptions : nil
    }

    init(table: String) throws(ProtobufDecodeError) {
        var aliases: [Substring: String] = [:]
        var indexByName: [String: Int] = [:]
        // Fields are resolved after all messages are known, since references run both ways.
        var pending: [(message: Int, text: Substring)] = []
        var kindLines: [[Substring]] = []
        for line in table.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.first == " " {
                guard let current = messages.indices.last else { throw Self.bad(line) }
                pending.append((current, line))
                continue
            }
            let words = line.split(separator: " ")
            switch words.first {
            case "P":
                guard words.count == 3 else { throw Self.bad(line) }
                aliases[words[1]] = String(words[2])
            case "K":
                guard words.count == 4 else { throw Self.bad(line) }
                kindLines.append(words)
            default:
                guard let name = words.first, words.count <= 2 else { throw Self.bad(line) }
                var message = ProtobufMessage(name: try Self.qualified(name, aliases))
                if words.count == 2 {
                    guard words[1].first == "=", let special = ProtobufSpecial(rawValue: String(words[1].dropFirst()))
                    else { throw Self.bad(line) }
                    message.special = special
                }
                indexByName[String(name)] = messages.count
                messages.append(message)
            }
        }
        for (index, text) in pending {
            for entry in text.split(separator: " ") {
                messages[index].fields.append(try Self.field(entry, indexByName))
            }
        }
        for index in messages.indices {
            messages[index].fields.sort { $0.number < $1.number }
            let maxNumber = messages[index].fields.last?.number ?? 0
            guard maxNumber < 4096 else { throw Self.bad(Substring(messages[index].name)) }
            var slots = [Int](repeating: -1, count: maxNumber + 1)
            for (slot, field) in messages[index].fields.enumerated() { slots[field.number] = slot }
            messages[index].slotByNumber = slots
        }
        for words in kindLines {
            guard let index = indexByName[String(words[3])] else { throw Self.bad(words[3]) }
            kinds[words[1] + " " + words[2]] = index
            if words[2] == "DeleteOptions" { deleteOptions = index }
        }
    }

    private static func bad(_ text: Substring) -> ProtobufDecodeError {
        ProtobufDecodeError(.malformed, "internal: bad protobuf field table entry '\(text)'")
    }

    private static func qualified(_ name: Substring, _ aliases: [Substring: String]) throws(ProtobufDecodeError)
        -> String
    {
        guard let dot = name.firstIndex(of: "."), let package = aliases[name[..<dot]] else { throw bad(name) }
        return package + name[dot...]
    }

    /// Parses `number,jsonName,type[,flags]`.
    private static func field(_ entry: Substring, _ indexByName: [String: Int]) throws(ProtobufDecodeError)
        -> ProtobufField
    {
        let parts = entry.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 3 || parts.count == 4, let number = Int(parts[0]), number > 0 else {
            throw bad(entry)
        }
        let flags = parts.count == 4 ? parts[3] : ""
        var mapKey: ProtobufScalar?
        var typeName = parts[2]
        if typeName.hasPrefix("map:") {
            let pieces = typeName.split(separator: ":")
            guard pieces.count == 3, let key = ProtobufScalar(rawValue: String(pieces[1])) else { throw bad(entry) }
            mapKey = key
            typeName = pieces[2]
        }
        let value: ProtobufValueType
        if let scalar = ProtobufScalar(rawValue: String(typeName)) {
            value = .scalar(scalar)
        } else if let index = indexByName[String(typeName)] {
            value = .message(index)
        } else {
            throw bad(entry)
        }
        return ProtobufField(
            number: number, jsonName: String(parts[1]), value: value, mapKey: mapKey,
            isRepeated: flags.contains("r"), omitsZero: flags.contains("o"), isInline: flags.contains("i"))
    }
}

public import APIMachinery

/// `/openapi/v2` as gnostic's `openapi.v2.Document` protobuf, the only form kubectl accepts when it falls back
/// to the v2 document (for example to validate the items of a `kind: List`).
///
/// Field numbers follow github.com/google/gnostic's OpenAPIv2.proto. Values gnostic keeps as `Any` (defaults,
/// enums, examples, vendor extensions) carry their JSON text in `Any.yaml`: JSON is YAML, and readers parse
/// that field as YAML.
public enum OpenAPIV2Protobuf {
    /// The media type the response carries; Go's MIME parser refuses the older form's `@`.
    public static let contentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    /// The media types clients may ask for: kubectl still sends the older one.
    public static let acceptedTypes = [contentType, "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"]

    /// Encodes a swagger 2.0 document.
    public static func encode(_ document: JSON) -> [UInt8] {
        var writer = GnosticWriter()
        writer.document(document.objectValue ?? JSONObject())
        return writer.out.bytes
    }
}

/// Writes gnostic's messages from the JSON they were read from; proto3 zero values are left out, as Go's
/// marshalling leaves them out.
private struct GnosticWriter {
    var out = ProtobufWriter()

    mutating func document(_ object: JSONObject) {
        string(1, object["swagger"])
        if let info = object["info"]?.objectValue {
            message(2) { w in
                w.string(1, info["title"])
                w.string(2, info["version"])
                w.string(3, info["description"])
                w.string(4, info["termsOfService"])
                w.vendorExtensions(7, info)
            }
        }
        string(3, object["host"])
        string(4, object["basePath"])
        strings(5, object["schemes"])
        strings(6, object["consumes"])
        strings(7, object["produces"])
        if let paths = object["paths"]?.objectValue {
            message(8) { w in
                w.vendorExtensions(1, paths)
                for (name, item) in paths where !name.hasPrefix("x-") {
                    w.named(2, name) { w in w.pathItem(item.objectValue ?? JSONObject()) }
                }
            }
        }
        if let definitions = object["definitions"]?.objectValue {
            message(9) { w in
                for (name, schema) in definitions { w.named(1, name) { w in w.schema(schema) } }
            }
        }
        if let parameters = object["parameters"]?.objectValue {
            message(10) { w in
                for (name, parameter) in parameters { w.named(1, name) { w in w.parameter(parameter) } }
            }
        }
        if let responses = object["responses"]?.objectValue {
            message(11) { w in
                for (name, response) in responses { w.named(1, name) { w in w.response(response) } }
            }
        }
        for requirement in object["security"]?.arrayValue ?? [] { securityRequirement(12, requirement) }
        if let definitions = object["securityDefinitions"]?.objectValue {
            message(13) { w in
                for (name, definition) in definitions {
                    w.named(1, name) { w in w.securityDefinition(definition.objectValue ?? JSONObject()) }
                }
            }
        }
        vendorExtensions(16, object)
    }

    mutating func pathItem(_ item: JSONObject) {
        string(1, item["$ref"])
        for (number, verb) in [
            (2, "get"), (3, "put"), (4, "post"), (5, "delete"), (6, "options"), (7, "head"), (8, "patch"),
        ] {
            if let operation = item[verb]?.objectValue { message(number) { w in w.operation(operation) } }
        }
        for parameter in item["parameters"]?.arrayValue ?? [] { parametersItem(9, parameter) }
        vendorExtensions(10, item)
    }

    mutating func operation(_ operation: JSONObject) {
        strings(1, operation["tags"])
        string(2, operation["summary"])
        string(3, operation["description"])
        string(5, operation["operationId"])
        strings(6, operation["produces"])
        strings(7, operation["consumes"])
        for parameter in operation["parameters"]?.arrayValue ?? [] { parametersItem(8, parameter) }
        if let responses = operation["responses"]?.objectValue {
            message(9) { w in
                for (code, response) in responses where !code.hasPrefix("x-") {
                    w.named(1, code) { w in
                        if let reference = response["$ref"] {
                            w.message(2) { w in w.string(1, reference) }
                        } else {
                            w.message(1) { w in w.response(response) }
                        }
                    }
                }
                w.vendorExtensions(2, responses)
            }
        }
        strings(10, operation["schemes"])
        bool(11, operation["deprecated"])
        for requirement in operation["security"]?.arrayValue ?? [] { securityRequirement(12, requirement) }
        vendorExtensions(13, operation)
    }

    mutating func parametersItem(_ number: Int, _ parameter: JSON) {
        message(number) { w in
            if let reference = parameter["$ref"] {
                w.message(2) { w in w.string(1, reference) }
            } else {
                w.message(1) { w in w.parameter(parameter) }
            }
        }
    }

    /// `Parameter`: a body parameter, or one of the four non-body kinds chosen by `in`.
    mutating func parameter(_ parameter: JSON) {
        guard let object = parameter.objectValue else { return }
        let location = object["in"]?.stringValue ?? ""
        if location == "body" {
            message(1) { w in
                w.string(1, object["description"])
                w.string(2, object["name"])
                w.string(3, object["in"])
                w.bool(4, object["required"])
                if let schema = object["schema"] { w.message(5) { w in w.schema(schema) } }
                w.vendorExtensions(6, object)
            }
            return
        }
        // NonBodyParameter's oneof: header 1, formData 2, query 3, path 4. Query and formData have
        // allowEmptyValue at 5, which moves their primitive fields one number up.
        let (kind, hasAllowEmpty): (Int, Bool) =
            switch location {
            case "header": (1, false)
            case "formData": (2, true)
            case "query": (3, true)
            default: (4, false)
            }
        message(2) { w in
            w.message(kind) { w in
                w.bool(1, object["required"])
                w.string(2, object["in"])
                w.string(3, object["description"])
                w.string(4, object["name"])
                if hasAllowEmpty { w.bool(5, object["allowEmptyValue"]) }
                let first = hasAllowEmpty ? 6 : 5
                w.primitives(object, from: first)
                w.vendorExtensions(first + 17, object)
            }
        }
    }

    /// The seventeen fields every primitive parameter, header and items object shares, numbered from `first`.
    mutating func primitives(_ object: JSONObject, from first: Int) {
        string(first, object["type"])
        string(first + 1, object["format"])
        if let items = object["items"]?.objectValue {
            message(first + 2) { w in
                w.primitives(items, from: 1)
                w.vendorExtensions(18, items)
            }
        }
        string(first + 3, object["collectionFormat"])
        any(first + 4, object["default"])
        double(first + 5, object["maximum"])
        bool(first + 6, object["exclusiveMaximum"])
        double(first + 7, object["minimum"])
        bool(first + 8, object["exclusiveMinimum"])
        int64(first + 9, object["maxLength"])
        int64(first + 10, object["minLength"])
        string(first + 11, object["pattern"])
        int64(first + 12, object["maxItems"])
        int64(first + 13, object["minItems"])
        bool(first + 14, object["uniqueItems"])
        for value in object["enum"]?.arrayValue ?? [] { any(first + 15, value) }
        double(first + 16, object["multipleOf"])
    }

    mutating func response(_ response: JSON) {
        guard let object = response.objectValue else { return }
        string(1, object["description"])
        if let schema = object["schema"] { message(2) { w in w.message(1) { w in w.schema(schema) } } }
        vendorExtensions(5, object)
    }

    mutating func schema(_ schema: JSON) {
        guard let object = schema.objectValue else { return }
        string(1, object["$ref"])
        string(2, object["format"])
        string(3, object["title"])
        string(4, object["description"])
        any(5, object["default"])
        double(6, object["multipleOf"])
        double(7, object["maximum"])
        bool(8, object["exclusiveMaximum"])
        double(9, object["minimum"])
        bool(10, object["exclusiveMinimum"])
        int64(11, object["maxLength"])
        int64(12, object["minLength"])
        string(13, object["pattern"])
        int64(14, object["maxItems"])
        int64(15, object["minItems"])
        bool(16, object["uniqueItems"])
        int64(17, object["maxProperties"])
        int64(18, object["minProperties"])
        strings(19, object["required"])
        for value in object["enum"]?.arrayValue ?? [] { any(20, value) }
        switch object["additionalProperties"] {
        case .bool(let allowed)?: message(21) { w in w.out.field(2, varint: allowed ? 1 : 0) }
        case let additional? where additional.objectValue != nil:
            message(21) { w in w.message(1) { w in w.schema(additional) } }
        default: break
        }
        switch object["type"] {
        case .string(let type)?: message(22) { w in w.out.field(1, string: type) }
        case .array?: message(22) { w in w.strings(1, object["type"]) }
        default: break
        }
        switch object["items"] {
        case .array(let items)?: message(23) { w in for item in items { w.message(1) { w in w.schema(item) } } }
        case let item? where item.objectValue != nil: message(23) { w in w.message(1) { w in w.schema(item) } }
        default: break
        }
        for member in object["allOf"]?.arrayValue ?? [] { message(24) { w in w.schema(member) } }
        if let properties = object["properties"]?.objectValue {
            message(25) { w in
                for (name, property) in properties { w.named(1, name) { w in w.schema(property) } }
            }
        }
        string(26, object["discriminator"])
        bool(27, object["readOnly"])
        any(30, object["example"])
        vendorExtensions(31, object)
    }

    /// `SecurityDefinitionsItem`: the oneof member is chosen by `type` (and `flow` for OAuth 2).
    mutating func securityDefinition(_ definition: JSONObject) {
        switch definition["type"]?.stringValue {
        case "basic":
            message(1) { w in
                w.string(1, definition["type"])
                w.string(2, definition["description"])
                w.vendorExtensions(3, definition)
            }
        case "apiKey":
            message(2) { w in
                w.string(1, definition["type"])
                w.string(2, definition["name"])
                w.string(3, definition["in"])
                w.string(4, definition["description"])
                w.vendorExtensions(5, definition)
            }
        default:
            break  // OAuth 2 schemes: this server publishes none.
        }
    }

    mutating func securityRequirement(_ number: Int, _ requirement: JSON) {
        message(number) { w in
            for (name, scopes) in requirement.objectValue ?? JSONObject() {
                w.named(1, name) { w in w.strings(1, scopes) }
            }
        }
    }

    // MARK: - Primitives

    mutating func message(_ number: Int, _ body: (inout GnosticWriter) -> Void) {
        let start = out.begin(number)
        body(&self)
        out.end(start)
    }

    /// A gnostic `Named…` pair: the name at 1, the value message at 2.
    mutating func named(_ number: Int, _ name: String, _ value: (inout GnosticWriter) -> Void) {
        message(number) { w in
            w.out.field(1, string: name)
            w.message(2, value)
        }
    }

    mutating func string(_ number: Int, _ value: JSON?) {
        guard let text = value?.stringValue, !text.isEmpty else { return }
        out.field(number, string: text)
    }

    mutating func strings(_ number: Int, _ value: JSON?) {
        for item in value?.arrayValue ?? [] {
            if let text = item.stringValue { out.field(number, string: text) }
        }
    }

    mutating func bool(_ number: Int, _ value: JSON?) {
        guard value?.boolValue == true else { return }
        out.field(number, varint: 1)
    }

    mutating func int64(_ number: Int, _ value: JSON?) {
        guard let integer = value?.intValue, integer != 0 else { return }
        out.field(number, varint: UInt64(bitPattern: integer))
    }

    mutating func double(_ number: Int, _ value: JSON?) {
        guard let double = value?.doubleValue, double != 0 else { return }
        out.tag(number, .fixed64)
        out.fixed64(double.bitPattern)
    }

    /// gnostic's `Any` with the value's JSON text in `yaml` (field 2).
    mutating func any(_ number: Int, _ value: JSON?) {
        guard let value else { return }
        message(number) { w in w.out.field(2, bytes: value.encoded()) }
    }

    /// Every `x-` key of the object as a `NamedAny`.
    mutating func vendorExtensions(_ number: Int, _ object: JSONObject) {
        for (key, value) in object where key.hasPrefix("x-") {
            named(number, key) { w in w.out.field(2, bytes: value.encoded()) }
        }
    }
}

public import APIMachinery
import Foundation

/// One node of a parsed `JSONSchemaProps`: the structural skeleton (type, properties, items,
/// additionalProperties), value validations, extensions and CEL rules. A class, since schemas nest deeply and
/// are shared read-only by every request of a CRD version.
public final class SchemaNode: Sendable {
    /// What `additionalProperties` says.
    public enum AdditionalProperties: Sendable {
        case allows(Bool)
        case schema(SchemaNode)
    }

    public let type: String?
    public let format: String?
    public let nullable: Bool
    public let defaultValue: JSON?
    /// Properties in schema order, so errors come out in a stable order.
    public let properties: [(name: String, schema: SchemaNode)]
    let propertyIndex: [String: Int]
    public let additionalProperties: AdditionalProperties?
    public let items: SchemaNode?
    public let required: [String]
    public let enumValues: [JSON]?
    public let pattern: String?
    let compiledPattern: CompiledPattern?
    public let maximum: Double?
    public let exclusiveMaximum: Bool
    public let minimum: Double?
    public let exclusiveMinimum: Bool
    public let multipleOf: Double?
    public let maxLength: Int64?
    public let minLength: Int64?
    public let maxItems: Int64?
    public let minItems: Int64?
    public let uniqueItems: Bool
    public let maxProperties: Int64?
    public let minProperties: Int64?
    public let allOf: [SchemaNode]
    public let anyOf: [SchemaNode]
    public let oneOf: [SchemaNode]
    public let not: SchemaNode?
    public let preserveUnknownFields: Bool
    public let embeddedResource: Bool
    public let intOrString: Bool
    public let listType: String?
    public let listMapKeys: [String]
    public let mapType: String?
    public let validations: [ValidationRule]

    /// Parses a schema that passed `StructuralCheck`; anything of the wrong shape reads as absent.
    init(parsing json: JSON) {
        let object = json.objectValue ?? JSONObject()
        type = object["type"]?.stringValue
        format = object["format"]?.stringValue
        nullable = object["nullable"]?.boolValue ?? false
        defaultValue = object["default"]
        var properties: [(name: String, schema: SchemaNode)] = []
        var index: [String: Int] = [:]
        for (name, value) in object["properties"]?.objectValue ?? JSONObject() {
            index[name] = properties.count
            properties.append((name, SchemaNode(parsing: value)))
        }
        self.properties = properties
        propertyIndex = index
        switch object["additionalProperties"] {
        case .bool(let allows): additionalProperties = .allows(allows)
        case .object(let schema): additionalProperties = .schema(SchemaNode(parsing: .object(schema)))
        default: additionalProperties = nil
        }
        items = object["items"].flatMap { $0.objectValue == nil ? nil : SchemaNode(parsing: $0) }
        required = object["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
        enumValues = object["enum"]?.arrayValue
        pattern = object["pattern"]?.stringValue
        compiledPattern = pattern.flatMap(CompiledPattern.init)
        maximum = object["maximum"]?.doubleValue
        exclusiveMaximum = object["exclusiveMaximum"]?.boolValue ?? false
        minimum = object["minimum"]?.doubleValue
        exclusiveMinimum = object["exclusiveMinimum"]?.boolValue ?? false
        multipleOf = object["multipleOf"]?.doubleValue
        maxLength = object["maxLength"]?.intValue
        minLength = object["minLength"]?.intValue
        maxItems = object["maxItems"]?.intValue
        minItems = object["minItems"]?.intValue
        uniqueItems = object["uniqueItems"]?.boolValue ?? false
        maxProperties = object["maxProperties"]?.intValue
        minProperties = object["minProperties"]?.intValue
        allOf = object["allOf"]?.arrayValue?.map(SchemaNode.init(parsing:)) ?? []
        anyOf = object["anyOf"]?.arrayValue?.map(SchemaNode.init(parsing:)) ?? []
        oneOf = object["oneOf"]?.arrayValue?.map(SchemaNode.init(parsing:)) ?? []
        not = object["not"].map(SchemaNode.init(parsing:))
        preserveUnknownFields = object["x-kubernetes-preserve-unknown-fields"]?.boolValue ?? false
        embeddedResource = object["x-kubernetes-embedded-resource"]?.boolValue ?? false
        intOrString = object["x-kubernetes-int-or-string"]?.boolValue ?? false
        listType = object["x-kubernetes-list-type"]?.stringValue
        listMapKeys = object["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue) ?? []
        mapType = object["x-kubernetes-map-type"]?.stringValue
        validations = object["x-kubernetes-validations"]?.arrayValue?.compactMap(ValidationRule.init(parsing:)) ?? []
    }

    /// The schema of property `name`, if declared.
    public func property(_ name: String) -> SchemaNode? {
        propertyIndex[name].map { properties[$0].schema }
    }

    /// The schema of `additionalProperties` when it is one.
    public var additionalPropertiesSchema: SchemaNode? {
        if case .schema(let schema) = additionalProperties { return schema }
        return nil
    }

    /// The schema a member `name` of an object value follows: a property, else `additionalProperties`.
    func schema(forMember name: String) -> SchemaNode? {
        property(name) ?? additionalPropertiesSchema
    }

    func collectRules(path: String, into rules: inout [(path: String, rule: ValidationRule)]) {
        for rule in validations { rules.append((path, rule)) }
        for (name, schema) in properties {
            schema.collectRules(path: path.isEmpty ? name : path + "." + name, into: &rules)
        }
        additionalPropertiesSchema?.collectRules(path: path + "[*]", into: &rules)
        items?.collectRules(path: path + "[*]", into: &rules)
    }
}

/// A compiled `pattern`. NSRegularExpression is immutable after creation and documented as safe to use
/// from several threads, which is why this box may be shared.
struct CompiledPattern: @unchecked Sendable {
    let expression: NSRegularExpression

    init?(_ pattern: String) {
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return nil }
        self.expression = expression
    }

    /// Go's `regexp.MatchString`: a match anywhere in the string.
    func matches(_ string: String) -> Bool {
        let range = NSRange(string.startIndex..., in: string)
        return expression.firstMatch(in: string, options: [], range: range) != nil
    }
}

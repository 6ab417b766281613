import APIMachinery

/// Validates a value against a schema as kube-openapi's validator does (type, composition, string, format,
/// number, array, enum, object, in that order), turning its errors into apiextensions' field errors.
/// Names in messages are the value's path (`spec.items[0].name`) followed by `in body`, as upstream.
struct ValueValidator {
    /// Prefixes error paths (a default's `….default`); nil for a custom resource, where upstream's errors that
    /// name no field print `<nil>`.
    var pathPrefix: String?

    /// Errors plus how many checks passed; composition keeps the branch that got furthest, as upstream.
    struct Outcome {
        var errors: [FieldError] = []
        var passed = 0
        var isValid: Bool { errors.isEmpty }
        mutating func merge(_ other: Outcome) {
            errors += other.errors
            passed += other.passed
        }
    }

    func validate(_ value: JSON, against schema: SchemaNode) -> [FieldError] {
        outcome(value, schema, name: "").errors
    }

    func outcome(_ value: JSON, _ schema: SchemaNode, name: String) -> Outcome {
        var result = Outcome()
        if value.isNull {
            result.merge(typeCheck(value, schema, name: name))
            result.merge(enumCheck(value, schema, name: name))
            return result
        }
        result.merge(typeCheck(value, schema, name: name))
        result.merge(composition(value, schema, name: name))
        if case .string(let string) = value {
            result.merge(stringChecks(string, schema, name: name))
            result.merge(formatCheck(string, schema, name: name))
        }
        switch value {
        case .int, .double: result.merge(numberChecks(value, schema, name: name))
        default: break
        }
        if case .array(let array) = value { result.merge(arrayChecks(array, schema, name: name)) }
        result.merge(enumCheck(value, schema, name: name))
        if case .object(let object) = value { result.merge(objectChecks(object, schema, name: name)) }
        return result
    }

    // MARK: Error construction

    /// The field path of an error about `name`: upstream's `fldPath.Child(strings.TrimPrefix(name, "."))`.
    func fieldPath(_ name: String) -> String {
        let trimmed = name.hasPrefix(".") ? String(name.dropFirst()) : name
        guard !trimmed.isEmpty else { return pathPrefix ?? "<nil>" }
        guard let pathPrefix else { return trimmed }
        return pathPrefix + "." + trimmed
    }

    /// An error upstream reports without a field (composition, number ranges): at the prefix, value "".
    func unnamed(_ message: String) -> FieldError {
        .invalid(pathPrefix ?? "<nil>", "", message)
    }

    func failure(_ error: FieldError) -> Outcome { Outcome(errors: [error], passed: 0) }
    static let passed = Outcome(errors: [], passed: 1)

    // MARK: Type

    func types(of schema: SchemaNode) -> [String] {
        if schema.intOrString { return ["integer", "string"] }
        return schema.type.map { $0.isEmpty ? [] : [$0] } ?? []
    }

    private func typeCheck(_ value: JSON, _ schema: SchemaNode, name: String) -> Outcome {
        let types = types(of: schema)
        let format = Formats.effectiveFormat(of: schema)
        guard !types.isEmpty || !format.isEmpty else { return Outcome() }
        let typeList = types.joined(separator: ",")
        func invalid(_ typeName: String, _ actual: String) -> Outcome {
            failure(
                .invalid(
                    fieldPath(name), .string(actual),
                    "\(name) in body must be of type \(typeName): \(GoFormat.quote(actual))"
                ))
        }
        if value.isNull {
            if !types.isEmpty && !schema.nullable { return invalid(typeList, "null") }
            return Self.passed
        }
        let actual = value.typeName
        let valueFormat: String
        switch value {
        case .int: valueFormat = "int64"
        case .double: valueFormat = "float64"
        default: valueFormat = ""
        }
        var isFloatInt = false
        if case .double(let double) = value, types.contains("integer") { isFloatInt = double.rounded() == double }
        var isIntFloat = false
        if case .int = value, types.contains("number") { isIntFloat = true }
        let isStringOrArray: Bool
        switch value {
        case .string, .array: isStringOrArray = true
        default: isStringOrArray = false
        }
        if !isStringOrArray && !format.isEmpty
            && !(types.contains(actual) || valueFormat == format || isFloatInt || isIntFloat)
        {
            return invalid(format, valueFormat)
        }
        if !(types.contains("number") || types.contains("integer")) && !format.isEmpty && isStringOrArray {
            return Self.passed
        }
        if !(types.contains(actual) || isFloatInt || isIntFloat) { return invalid(typeList, actual) }
        return Self.passed
    }

    // MARK: Strings

    private func stringChecks(_ string: String, _ schema: SchemaNode, name: String) -> Outcome {
        let length = Int64(string.unicodeScalars.count)
        let path = fieldPath(name)
        if let maxLength = schema.maxLength, length > maxLength {
            let bytes = maxLength == 1 ? "byte" : "bytes"
            return failure(
                FieldError(.tooLong(Int(maxLength)), path, detail: "may not be more than \(maxLength) \(bytes)"))
        }
        if let minLength = schema.minLength, length < minLength {
            return failure(
                .invalid(path, .string(string), "\(name) in body should be at least \(minLength) chars long"))
        }
        if let pattern = schema.pattern {
            guard let compiled = schema.compiledPattern else {
                return failure(
                    .invalid(path, .string(string), "\(name) in body should match '\(pattern), but pattern is invalid'")
                )
            }
            if !compiled.matches(string) {
                return failure(.invalid(path, .string(string), "\(name) in body should match '\(pattern)'"))
            }
        }
        return Self.passed
    }

    private func formatCheck(_ string: String, _ schema: SchemaNode, name: String) -> Outcome {
        let format = Formats.effectiveFormat(of: schema)
        guard !format.isEmpty, let valid = Formats.validate(format, string) else { return Outcome() }
        if valid { return Self.passed }
        let message = "\(name) in body must be of type \(format): \(GoFormat.quote(string))"
        return failure(.invalid(fieldPath(name), .string(string), message))
    }

    // MARK: Enum

    private func enumCheck(_ value: JSON, _ schema: SchemaNode, name: String) -> Outcome {
        guard let allowed = schema.enumValues, !allowed.isEmpty else { return Outcome() }
        if !value.isNull && allowed.contains(value) { return Self.passed }
        let names = allowed.map { $0.stringValue ?? $0.jsonString }
        return failure(.notSupported(fieldPath(name), value, names))
    }
}

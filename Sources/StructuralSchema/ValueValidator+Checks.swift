import APIMachinery

extension ValueValidator {
    // MARK: allOf, anyOf, oneOf, not

    func composition(_ value: JSON, _ schema: SchemaNode, name: String) -> Outcome {
        var result = Outcome()
        let quoted = GoFormat.quote(name)
        if !schema.anyOf.isEmpty {
            var best: Outcome?
            var success: Outcome?
            for branch in schema.anyOf {
                let outcome = outcome(value, branch, name: name)
                if outcome.isValid {
                    success = outcome
                    best = nil
                    break
                }
                if best == nil || outcome.passed > (best?.passed ?? 0) { best = outcome }
            }
            if success == nil { result.errors.append(unnamed("\(quoted) must validate at least one schema (anyOf)")) }
            if let chosen = best ?? success { result.merge(chosen) }
        }
        if !schema.oneOf.isEmpty {
            var best: Outcome?
            var success: Outcome?
            var validated = 0
            for branch in schema.oneOf {
                let outcome = outcome(value, branch, name: name)
                if outcome.isValid {
                    validated += 1
                    best = nil
                    if success == nil { success = outcome }
                } else if validated == 0 && (best == nil || outcome.passed > (best?.passed ?? 0)) {
                    best = outcome
                }
            }
            if validated != 1 {
                let detail = validated == 0 ? "Found none valid" : "Found \(validated) valid alternatives"
                result.errors.append(unnamed("\(quoted) must validate one and only one schema (oneOf). \(detail)"))
                if let best { result.merge(best) }
            } else if let success {
                result.merge(success)
            }
        }
        if !schema.allOf.isEmpty {
            var validated = 0
            for branch in schema.allOf {
                let outcome = outcome(value, branch, name: name)
                if outcome.isValid { validated += 1 }
                result.merge(outcome)
            }
            if validated != schema.allOf.count {
                let detail = validated == 0 ? ". None validated" : ""
                result.errors.append(unnamed("\(quoted) must validate all the schemas (allOf)\(detail)"))
            }
        }
        if let not = schema.not, outcome(value, not, name: name).isValid {
            result.errors.append(unnamed("\(quoted) must not validate the schema (not)"))
        }
        if result.isValid { result.passed += 1 }
        return result
    }

    // MARK: Numbers

    func numberChecks(_ value: JSON, _ schema: SchemaNode, name: String) -> Outcome {
        var typeName = ""
        var format = ""
        if schema.type == "integer" && !schema.intOrString {
            typeName = "integer"
            if schema.format == "int32" || schema.format == "int64" { format = schema.format ?? "" }
        } else if schema.type == "number" {
            typeName = "number"
            if schema.format == "float" || schema.format == "double" { format = schema.format ?? "" }
        }
        var result = Outcome()
        if let error = rangeError(value, typeName, format, "Checked", name) { result.errors.append(unnamed(error)) }
        let path = fieldPath(name)
        let asDouble = value.doubleValue ?? 0
        func bound(_ bound: Double?, _ prefix: String, _ check: (_ native: Bool) -> String?) {
            guard let bound else { return }
            if let error = rangeError(.double(bound), typeName, format, prefix, name) {
                result.errors.append(unnamed(error))
                if let message = check(false) { result.errors.append(.invalid(path, value, message)) }
            } else if let message = check(true) {
                result.errors.append(.invalid(path, value, message))
            }
        }
        let intValue: Int64? = if case .int(let int) = value { int } else { nil }
        bound(schema.multipleOf, "MultipleOf") { native in
            let factor = schema.multipleOf ?? 1
            if native, let intValue {
                let intFactor = Self.truncate(factor)
                if intFactor <= 0 { return "factor MultipleOf declared for \(name) must be positive: \(intFactor)" }
                return intValue % intFactor == 0 ? nil : "\(name) in body should be a multiple of \(intFactor)"
            }
            if factor <= 0 {
                return "factor MultipleOf declared for \(name) must be positive: \(GoFormat.float(factor))"
            }
            let multiple = factor < 1 ? 1 / factor * asDouble : asDouble / factor
            let isInteger = abs(multiple - multiple.rounded()) <= 1e-9 * max(1, abs(multiple))
            return isInteger ? nil : "\(name) in body should be a multiple of \(GoFormat.float(factor))"
        }
        bound(schema.minimum, "Minimum boundary") { native in
            let minimum = schema.minimum ?? 0
            let exclusive = schema.exclusiveMinimum
            let relation = exclusive ? "greater than" : "greater than or equal to"
            if native, let intValue {
                let bound = Self.truncate(minimum)
                let fails = exclusive ? intValue <= bound : intValue < bound
                return fails ? "\(name) in body should be \(relation) \(bound)" : nil
            }
            let fails = exclusive ? asDouble <= minimum : asDouble < minimum
            return fails ? "\(name) in body should be \(relation) \(GoFormat.float(minimum))" : nil
        }
        bound(schema.maximum, "Maximum boundary") { native in
            let maximum = schema.maximum ?? 0
            let exclusive = schema.exclusiveMaximum
            let relation = exclusive ? "less than" : "less than or equal to"
            if native, let intValue {
                let bound = Self.truncate(maximum)
                let fails = exclusive ? intValue >= bound : intValue > bound
                return fails ? "\(name) in body should be \(relation) \(bound)" : nil
            }
            let fails = exclusive ? asDouble >= maximum : asDouble > maximum
            return fails ? "\(name) in body should be \(relation) \(GoFormat.float(maximum))" : nil
        }
        if result.isValid { result.passed += 1 }
        return result
    }

    /// Go's `int64(f)`, saturating instead of undefined behaviour on overflow.
    private static func truncate(_ value: Double) -> Int64 {
        guard value.isFinite else { return value > 0 ? .max : .min }
        if value >= 9.223372036854775e18 { return .max }
        if value <= -9.223372036854775e18 { return .min }
        return Int64(value.rounded(.towardZero))
    }

    /// kube-openapi's `IsValueValidAgainstRange`: does a number fit the type and format it is checked as?
    private func rangeError(_ value: JSON, _ typeName: String, _ format: String, _ prefix: String, _ name: String)
        -> String?
    {
        let fits: Bool
        switch (typeName, format) {
        case ("integer", "int32"):
            fits = value.intValue.map { $0 >= Int64(Int32.min) && $0 <= Int64(Int32.max) } ?? false
        case ("integer", _):
            fits = value.intValue != nil
        case ("number", "float"):
            fits = abs(value.doubleValue ?? 0) <= Double(Float.greatestFiniteMagnitude)
        default:
            fits = true
        }
        if fits { return nil }
        if format.isEmpty { return "\(prefix) value must be of type \(typeName) (default format) in \(name)" }
        return "\(prefix) value must be of type \(typeName) with format \(format) in \(name)"
    }

    // MARK: Arrays

    func arrayChecks(_ array: [JSON], _ schema: SchemaNode, name: String) -> Outcome {
        var result = Outcome()
        if let items = schema.items {
            for (index, item) in array.enumerated() { result.merge(outcome(item, items, name: "\(name)[\(index)]")) }
        }
        let path = fieldPath(name)
        let size = Int64(array.count)
        if let minItems = schema.minItems, size < minItems {
            result.errors.append(.invalid(path, .int(size), "\(name) in body should have at least \(minItems) items"))
        }
        if let maxItems = schema.maxItems, size > maxItems {
            result.errors.append(Self.tooMany(path, size, maxItems, "items", "item"))
        }
        if schema.uniqueItems && Set(array).count != array.count {
            result.errors.append(.invalid(path, "", "\(name) in body shouldn't contain duplicates"))
        }
        if result.isValid { result.passed += 1 }
        return result
    }

    /// `field.TooMany`: `Too many: 3: must have at most 2 items`.
    static func tooMany(_ path: String, _ actual: Int64, _ limit: Int64, _ plural: String, _ singular: String)
        -> FieldError
    {
        FieldError(
            .tooMany(Int(limit)), path, value: .int(actual),
            detail: "must have at most \(limit) \(limit == 1 ? singular : plural)")
    }

    // MARK: Objects

    func objectChecks(_ object: JSONObject, _ schema: SchemaNode, name: String) -> Outcome {
        var result = Outcome()
        let path = fieldPath(name)
        let count = Int64(object.count)
        if let minProperties = schema.minProperties, count < minProperties {
            result.errors.append(
                .invalid(path, .int(count), "\(name) in body should have at least \(minProperties) properties"))
        }
        if let maxProperties = schema.maxProperties, count > maxProperties {
            result.errors.append(Self.tooMany(path, count, maxProperties, "properties", "property"))
        }
        switch schema.additionalProperties {
        case .allows(false):
            for (key, _) in object where schema.property(key) == nil {
                result.errors.append(.invalid(path, .string(key), "\(name).\(key) in body is a forbidden property"))
            }
        case .schema(let additional):
            for (key, member) in object where schema.property(key) == nil {
                result.merge(outcome(member, additional, name: name + "." + key))
            }
        default:
            break
        }
        for (property, propertySchema) in schema.properties {
            guard let member = object[property] else { continue }
            result.merge(outcome(member, propertySchema, name: name.isEmpty ? property : name + "." + property))
        }
        for key in schema.required where object[key] == nil {
            result.errors.append(.required(fieldPath(name + "." + key)))
        }
        if result.isValid { result.passed += 1 }
        return result
    }
}

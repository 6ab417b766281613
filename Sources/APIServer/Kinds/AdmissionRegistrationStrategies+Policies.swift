import APIMachinery

/// admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy: upstream's v1 defaults and validation, every
/// expression compiled at write time (a syntax error is refused with `compilation failed: …`). Its status
/// gets `observedGeneration` and an empty `typeChecking` on each write: there is no type checker to warn.
struct ValidatingAdmissionPolicyStrategy: Strategy {
    static let failurePolicies = ["Fail", "Ignore"]
    static let reasons = ["Forbidden", "Invalid", "RequestEntityTooLarge"]
    static let maxAuditAnnotations = 20
    static let maxValueExpressionLength = 5 * 1024
    /// Words cel-go reserves, which a variable may not be named.
    static let reserved: Set<String> = [
        "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if",
        "import", "let", "loop", "package", "namespace", "return", "var", "void", "while",
    ]

    var tracksGeneration: Bool { true }

    func applyDefaults(_ object: inout JSON) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        if spec["failurePolicy"] == nil { spec["failurePolicy"] = "Fail" }
        if var constraints = spec["matchConstraints"], constraints.objectValue != nil {
            AdmissionRegistrationValidation.defaultMatchResources(&constraints)
            spec["matchConstraints"] = constraints
        }
        object["spec"] = spec
    }

    func beforeCreate(_ object: inout JSON, context: RegistryContext) async throws { observe(&object) }
    func beforeUpdate(_ object: inout JSON, old: JSON, context: RegistryContext) async throws { observe(&object) }

    /// The policy takes effect as soon as the admission plugin's watch sees it, so every generation is
    /// observed when written.
    private func observe(_ object: inout JSON) {
        object.set(["status", "observedGeneration"], to: .int(object.generation ?? 1))
        if object["status"]?["typeChecking"] == nil {
            object.set(["status", "typeChecking"], to: .object(JSONObject()))
        }
    }

    /// The variables the policy's expressions may read: `params` only with a paramKind.
    static func variables(_ spec: JSON?) -> Set<String> {
        spec?["paramKind"] == nil ? CELAdmission.policyVariables.subtracting(["params"]) : CELAdmission.policyVariables
    }

    func validate(_ object: JSON) -> [FieldError] {
        let spec = object["spec"] ?? .object(JSONObject())
        let variables = Self.variables(spec)
        var errors: [FieldError] = []
        if let policy = spec["failurePolicy"] {
            if !Self.failurePolicies.contains(policy.stringValue ?? "") {
                errors.append(.notSupported("spec.failurePolicy", policy, Self.failurePolicies))
            }
        } else {
            errors.append(.required("spec.failurePolicy"))
        }
        if let paramKind = spec["paramKind"] { errors += Self.paramKind(paramKind, path: "spec.paramKind") }
        if let constraints = spec["matchConstraints"] {
            errors += AdmissionRegistrationValidation.matchResources(constraints, path: "spec.matchConstraints")
            if (constraints["resourceRules"]?.arrayValue ?? []).isEmpty {
                errors.append(.required("spec.matchConstraints.resourceRules"))
            }
        } else {
            errors.append(.required("spec.matchConstraints"))
        }
        errors += AdmissionRegistrationValidation.matchConditions(
            spec["matchConditions"], variables: variables, path: "spec.matchConditions")
        for (index, variable) in (spec["variables"]?.arrayValue ?? []).enumerated() {
            errors += Self.variable(variable, variables: variables, path: "spec.variables[\(index)]")
        }
        let validations = spec["validations"]?.arrayValue ?? []
        let annotations = spec["auditAnnotations"]?.arrayValue ?? []
        if validations.isEmpty && annotations.isEmpty {
            let detail = "validations or auditAnnotations must contain at least one item"
            return errors + [.required("spec.validations", detail), .required("spec.auditAnnotations", detail)]
        }
        for (index, validation) in validations.enumerated() {
            errors += Self.validation(validation, variables: variables, path: "spec.validations[\(index)]")
        }
        if annotations.count > Self.maxAuditAnnotations {
            errors.append(
                .invalid(
                    "spec.auditAnnotations", spec["auditAnnotations"] ?? .null,
                    "must not have more than \(Self.maxAuditAnnotations) auditAnnotations"))
        }
        var keys = Set<String>()
        for (index, annotation) in annotations.enumerated() {
            let path = "spec.auditAnnotations[\(index)]"
            errors += Self.auditAnnotation(annotation, policy: object.name ?? "", variables: variables, path: path)
            let key = annotation["key"]?.stringValue ?? ""
            if !keys.insert(key).inserted { errors.append(.duplicate(path + ".key", .string(key))) }
        }
        return errors
    }

    static func paramKind(_ json: JSON, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let apiVersion = json["apiVersion"]?.stringValue ?? ""
        if apiVersion.isEmpty {
            errors.append(.required(path + ".apiVersion"))
        } else if apiVersion.filter({ $0 == "/" }).count > 1 {
            errors.append(
                .invalid(path + ".apiVersion", .string(apiVersion), "unexpected GroupVersion string: \(apiVersion)"))
        } else {
            let parts = apiVersion.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            let (group, version) = parts.count == 2 ? (parts[0], parts[1]) : ("", apiVersion)
            if !group.isEmpty, case let messages = NameValidation.dns1123Subdomain(group), !messages.isEmpty {
                errors.append(.invalid(path + ".apiVersion", .string(group), messages.joined(separator: ",")))
            }
            if version.isEmpty {
                errors.append(.invalid(path + ".apiVersion", .string(apiVersion), "version must be specified"))
            } else if case let messages = NameValidation.dns1035Label(version), !messages.isEmpty {
                errors.append(.invalid(path + ".apiVersion", .string(version), messages.joined(separator: ",")))
            }
        }
        let kind = json["kind"]?.stringValue ?? ""
        if kind.isEmpty {
            errors.append(.required(path + ".kind"))
        } else if case let messages = NameValidation.dns1035Label(kind.lowercased()), !messages.isEmpty {
            errors.append(
                .invalid(
                    path + ".kind", .string(kind),
                    "may have mixed case, but should otherwise match: " + messages.joined(separator: ",")))
        }
        return errors
    }

    static func variable(_ json: JSON, variables: Set<String>, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let name = json["name"]?.stringValue ?? ""
        if AdmissionRegistrationValidation.trim(name).isEmpty {
            errors.append(.required(path + ".name", "name is not specified"))
        } else if !isCELIdentifier(name) {
            errors.append(.invalid(path + ".name", .string(name), "name is not a valid CEL identifier"))
        }
        let expression = json["expression"]?.stringValue ?? ""
        if AdmissionRegistrationValidation.trim(expression).isEmpty {
            errors.append(.required(path + ".expression", "expression is not specified"))
        } else {
            errors += CELAdmission.compileErrors(expression, variables: variables, path: path + ".expression")
        }
        return errors
    }

    /// `[_a-zA-Z][_a-zA-Z0-9]*`, not a reserved word.
    static func isCELIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        let valid = name.unicodeScalars.allSatisfy {
            $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0)
        }
        return valid && !reserved.contains(name)
    }

    static func validation(_ json: JSON, variables: Set<String>, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let trim = AdmissionRegistrationValidation.trim
        let expression = json["expression"]?.stringValue ?? ""
        if trim(expression).isEmpty {
            errors.append(.required(path + ".expression", "expression is not specified"))
        } else {
            errors += CELAdmission.compileErrors(expression, variables: variables, path: path + ".expression")
        }
        let messageExpression = json["messageExpression"]?.stringValue ?? ""
        if !messageExpression.isEmpty, trim(messageExpression).isEmpty {
            errors.append(
                .invalid(path + ".messageExpression", .string(messageExpression), "must be non-empty if specified"))
        } else if !messageExpression.isEmpty {
            errors += CELAdmission.compileErrors(
                messageExpression, variables: variables, path: path + ".messageExpression")
        }
        let message = json["message"]?.stringValue ?? ""
        if !message.isEmpty, trim(message).isEmpty {
            errors.append(.invalid(path + ".message", .string(message), "message must be non-empty if specified"))
        } else if trim(message).contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            errors.append(.invalid(path + ".message", .string(message), "message must not contain line breaks"))
        }
        if let reason = json["reason"], !reasons.contains(reason.stringValue ?? "") {
            errors.append(.notSupported(path + ".reason", reason, reasons))
        }
        return errors
    }

    static func auditAnnotation(_ json: JSON, policy: String, variables: Set<String>, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let key = json["key"]?.stringValue ?? ""
        if policy.isEmpty {
            errors.append(.invalid(path + ".key", .string(key), "requires metadata.name be non-empty"))
        } else {
            let qualified = policy + "/" + key
            errors += NameValidation.qualifiedName(qualified).map { .invalid(path + ".key", .string(qualified), $0) }
        }
        let value = AdmissionRegistrationValidation.trim(json["valueExpression"]?.stringValue ?? "")
        if value.isEmpty {
            errors.append(.required(path + ".valueExpression", "valueExpression is not specified"))
        } else if value.utf8.count > maxValueExpressionLength {
            errors.append(
                .required(path + ".valueExpression", "must not exceed \(maxValueExpressionLength) bytes in length"))
        } else if case .failure(let error) = CELAdmission.compile(value, variables: variables) {
            errors.append(
                .invalid(
                    path + ".valueExpression", json["valueExpression"] ?? .null, "compilation failed: " + error.message)
            )
        }
        return errors
    }

    var columns: [Table.Column] {
        [.name, Table.Column("Validations", type: "integer"), Table.Column("ParamKind"), .age]
    }
    func cells(_ object: JSON) -> [JSON] {
        let paramKind = object["spec"]?["paramKind"]
        let kind =
            paramKind.map { "\($0["apiVersion"]?.stringValue ?? "")/\($0["kind"]?.stringValue ?? "")" } ?? "<unset>"
        return [
            Cells.name(object), .int(Int64(object["spec"]?["validations"]?.arrayValue?.count ?? 0)), .string(kind),
            Cells.age(object),
        ]
    }
}

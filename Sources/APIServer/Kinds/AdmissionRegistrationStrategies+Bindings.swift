import APIMachinery

/// admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding: upstream's v1 defaults (its
/// `matchResources`, when given) and validation (policy name, paramRef, match resources, actions).
struct ValidatingAdmissionPolicyBindingStrategy: Strategy {
    static let actions = ["Audit", "Deny", "Warn"]
    static let notFoundActions = ["Deny", "Allow"]

    func applyDefaults(_ object: inout JSON) {
        guard var resources = object["spec"]?["matchResources"], resources.objectValue != nil else { return }
        AdmissionRegistrationValidation.defaultMatchResources(&resources)
        object.set(["spec", "matchResources"], to: resources)
    }

    func validate(_ object: JSON) -> [FieldError] {
        let spec = object["spec"] ?? .object(JSONObject())
        var errors: [FieldError] = []
        let policyName = spec["policyName"]?.stringValue ?? ""
        if policyName.isEmpty {
            errors.append(.required("spec.policyName"))
        } else {
            errors += NameValidation.dns1123Subdomain(policyName).map {
                .invalid("spec.policyName", .string(policyName), $0)
            }
        }
        if let paramRef = spec["paramRef"] { errors += Self.paramRef(paramRef, path: "spec.paramRef") }
        if let resources = spec["matchResources"] {
            // Upstream's path keeps its misspelling.
            errors += AdmissionRegistrationValidation.matchResources(resources, path: "spec.matchResouces")
        }
        return errors + Self.validationActions(spec["validationActions"], path: "spec.validationActions")
    }

    static func paramRef(_ json: JSON, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let name = json["name"]?.stringValue ?? ""
        let selector = json["selector"]
        if !name.isEmpty {
            errors += NameValidation.pathSegmentName(name).map { .invalid(path + ".name", .string(name), $0) }
            if selector != nil { errors.append(.forbidden(path + ".name", "name and selector are mutually exclusive")) }
        }
        if let selector {
            errors += AdmissionRegistrationValidation.labelSelector(selector, path: path + ".selector")
            if !name.isEmpty {
                errors.append(.forbidden(path + ".selector", "name and selector are mutually exclusive"))
            }
        }
        if name.isEmpty && selector == nil {
            errors.append(.required(path, "one of name or selector must be specified"))
        }
        let action = json["parameterNotFoundAction"]?.stringValue ?? ""
        if action.isEmpty {
            errors.append(.required(path + ".parameterNotFoundAction"))
        } else if !notFoundActions.contains(action) {
            errors.append(.notSupported(path + ".parameterNotFoundAction", .string(action), notFoundActions))
        }
        return errors
    }

    /// Deny, Warn and Audit, each once, at least one, and never Deny with Warn.
    static func validationActions(_ json: JSON?, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        var seen = Set<String>()
        let actions = AdmissionRegistrationValidation.strings(json)
        for (index, action) in actions.enumerated() {
            if !Self.actions.contains(action) {
                errors.append(.notSupported("\(path)[\(index)]", .string(action), Self.actions))
            }
            if !seen.insert(action).inserted { errors.append(.duplicate("\(path)[\(index)]", .string(action))) }
        }
        if seen.contains("Deny") && seen.contains("Warn") {
            errors.append(
                .invalid(
                    path, json ?? .null,
                    "must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)"
                ))
        }
        if seen.isEmpty { errors.append(.required(path, "at least one validation action is required")) }
        return errors
    }

    var columns: [Table.Column] {
        [.name, Table.Column("PolicyName"), Table.Column("ParamRef"), .age]
    }
    func cells(_ object: JSON) -> [JSON] {
        var paramRef = "<unset>"
        if let ref = object["spec"]?["paramRef"] {
            let name = ref["name"]?.stringValue ?? ""
            let namespace = ref["namespace"]?.stringValue ?? ""
            if !name.isEmpty {
                // A name without a namespace may be cluster-scoped or the request's namespace.
                paramRef = (namespace.isEmpty ? "*" : namespace) + "/" + name
            } else if let selector = ref["selector"], let parsed = try? LabelSelector(object: selector) {
                paramRef = parsed.description
            }
        }
        return [
            Cells.name(object), .string(object["spec"]?["policyName"]?.stringValue ?? ""), .string(paramRef),
            Cells.age(object),
        ]
    }
}

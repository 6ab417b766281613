import APIMachinery

/// APIServices as upstream's apiregistration registry keeps them: status written only by its subresource,
/// `spec.service.port` defaulted to 443, upstream's validation and messages, and the table
/// `kubectl get apiservices` prints (NAME SERVICE AVAILABLE AGE).
struct APIServiceStrategy: Strategy {
    var columns: [Table.Column] {
        [
            .name,
            Table.Column("Service", description: "The reference to the service that hosts this API endpoint."),
            Table.Column("Available", description: "Whether this service is available."),
            .age,
        ]
    }

    func cells(_ object: JSON) -> [JSON] {
        let view = APIServiceView(object)
        let service = view.service.map { "\($0.namespace)/\($0.name)" } ?? "Local"
        var available = view.available ?? "Unknown"
        if available != "True", let reason = view.availableReason { available += " (\(reason))" }
        return [Cells.name(object), .string(service), .string(available), Cells.age(object)]
    }

    func prepareForCreate(_ object: inout JSON) { object["status"] = nil }

    func prepareForUpdate(_ object: inout JSON, old: JSON) { object["status"] = old["status"] }

    func applyDefaults(_ object: inout JSON) {
        if let service = object["spec"]?["service"], service.objectValue != nil, service["port"] == nil {
            object.set(["spec", "service", "port"], to: 443)
        }
    }

    /// Path-segment rules only: that the name is `<version>.<group>` depends on the spec, so `validate` says it.
    func validateName(_ name: String) -> [String] { NameValidation.pathSegmentName(name) }

    func validate(_ object: JSON) -> [FieldError] { APIServiceValidation.validate(object) }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] { APIServiceValidation.validate(object) }
}

/// Upstream's `ValidateAPIService`, with its messages.
enum APIServiceValidation {
    static func validate(_ object: JSON) -> [FieldError] {
        let view = APIServiceView(object)
        var errors: [FieldError] = []
        let required = view.version + "." + view.group
        if view.name != required {
            errors.append(
                .invalid(
                    "metadata.name", .string(view.name), "must be `spec.version+\".\"+spec.group`: \"\(required)\""))
        }
        if view.group.isEmpty, view.version != "v1" {
            errors.append(
                .required("spec.group", "only v1 may have an empty group and it better be legacy kube"))
        }
        if !view.group.isEmpty {
            for problem in NameValidation.dns1123Subdomain(view.group) {
                errors.append(.invalid("spec.group", .string(view.group), problem))
            }
        }
        for problem in NameValidation.dns1035Label(view.version) {
            errors.append(.invalid("spec.version", .string(view.version), problem))
        }
        let groupPriority = view.spec["groupPriorityMinimum"]?.intValue ?? 0
        if groupPriority <= 0 || groupPriority > 20000 {
            errors.append(
                .invalid("spec.groupPriorityMinimum", .int(groupPriority), "must be positive and less than 20000"))
        }
        let versionPriority = view.spec["versionPriority"]?.intValue ?? 0
        if versionPriority <= 0 || versionPriority > 1000 {
            errors.append(
                .invalid("spec.versionPriority", .int(versionPriority), "must be positive and less than 1000"))
        }
        let caBundleLength = view.caBundle?.count ?? 0
        guard let service = view.service else {
            if caBundleLength > 0 {
                errors.append(
                    .invalid(
                        "spec.caBundle", .string("\(caBundleLength) bytes"), "local APIServices may not have a caBundle"
                    ))
            }
            if view.insecureSkipTLSVerify {
                errors.append(
                    .invalid(
                        "spec.insecureSkipTLSVerify", .bool(true),
                        "local APIServices may not have insecureSkipTLSVerify"))
            }
            return errors
        }
        if service.namespace.isEmpty { errors.append(.required("spec.service.namespace")) }
        if service.name.isEmpty { errors.append(.required("spec.service.name")) }
        if !(1...65535).contains(service.port) {
            errors.append(
                .invalid(
                    "spec.service.port", .int(Int64(service.port)),
                    "port is not valid: must be between 1 and 65535, inclusive"))
        }
        if view.insecureSkipTLSVerify, caBundleLength > 0 {
            errors.append(
                .invalid("spec.insecureSkipTLSVerify", .bool(true), "may not be true if caBundle is present"))
        }
        return errors
    }
}

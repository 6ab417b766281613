import APIMachinery

/// admissionregistration.k8s.io Mutating- and ValidatingWebhookConfigurations: stored, defaulted and validated
/// as upstream's v1; the webhook admission plugins (`Admission/Webhooks/`) call them.
struct WebhookConfigurationStrategy: Strategy {
    let mutating: Bool

    static let sideEffects = ["None", "NoneOnDryRun"]
    static let failurePolicies = ["Fail", "Ignore"]
    static let matchPolicies = ["Equivalent", "Exact"]
    static let reviewVersions = ["v1", "v1beta1"]

    /// Upstream bumps the generation when the webhooks change.
    var generation: GenerationRule { .tracked(by: ["webhooks"]) }

    func applyDefaults(_ object: inout JSON) {
        guard var webhooks = object["webhooks"]?.arrayValue else { return }
        for index in webhooks.indices {
            var webhook = webhooks[index]
            var defaults: [(String, JSON)] = [
                ("failurePolicy", "Fail"), ("matchPolicy", "Equivalent"), ("namespaceSelector", .object(JSONObject())),
                ("objectSelector", .object(JSONObject())), ("timeoutSeconds", 10),
            ]
            if mutating { defaults.append(("reinvocationPolicy", "Never")) }
            for (field, value) in defaults where webhook[field] == nil { webhook[field] = value }
            if var rules = webhook["rules"]?.arrayValue {
                for rule in rules.indices where rules[rule]["scope"] == nil { rules[rule]["scope"] = "*" }
                webhook["rules"] = .array(rules)
            }
            if webhook["clientConfig"]?["service"] != nil, webhook["clientConfig"]?["service"]?["port"] == nil {
                webhook.set(["clientConfig", "service", "port"], to: 443)
            }
            webhooks[index] = webhook
        }
        object["webhooks"] = .array(webhooks)
    }

    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        var names = Set<String>()
        for (index, webhook) in (object["webhooks"]?.arrayValue ?? []).enumerated() {
            let path = "webhooks[\(index)]"
            let name = webhook["name"]?.stringValue ?? ""
            if name.isEmpty {
                errors.append(.required("\(path).name", ""))
            } else {
                errors += NameValidation.dns1123Subdomain(name).map { .invalid("\(path).name", .string(name), $0) }
                if name.split(separator: ".", omittingEmptySubsequences: false).count < 3 {
                    errors.append(
                        .invalid(
                            "\(path).name", .string(name),
                            "should be a domain with at least three segments separated by dots"))
                }
                if !names.insert(name).inserted { errors.append(.duplicate("\(path).name", .string(name))) }
            }
            let client = webhook["clientConfig"]
            if (client?["url"] == nil) == (client?["service"] == nil) {
                errors.append(.required("\(path).clientConfig", "exactly one of url or service is required"))
            }
            errors += Self.oneOf(webhook["sideEffects"], Self.sideEffects, path: "\(path).sideEffects")
            errors += Self.oneOf(webhook["failurePolicy"], Self.failurePolicies, path: "\(path).failurePolicy")
            errors += Self.oneOf(webhook["matchPolicy"], Self.matchPolicies, path: "\(path).matchPolicy")
            let versions = (webhook["admissionReviewVersions"]?.arrayValue ?? []).compactMap(\.stringValue)
            if !versions.contains(where: Self.reviewVersions.contains) {
                errors.append(
                    .required(
                        "\(path).admissionReviewVersions",
                        "must specify one of \(Self.reviewVersions.joined(separator: ", "))"))
            }
            if let timeout = webhook["timeoutSeconds"]?.intValue, !(1...30).contains(timeout) {
                errors.append(
                    .invalid(
                        "\(path).timeoutSeconds", .int(timeout), "the timeout value must be between 1 and 30 seconds"))
            }
            errors += AdmissionRegistrationValidation.matchConditions(
                webhook["matchConditions"], variables: CELAdmission.webhookVariables, path: "\(path).matchConditions")
        }
        return errors
    }

    /// A required enumerated field: missing is upstream's "must specify one of", unknown is NotSupported.
    static func oneOf(_ value: JSON?, _ allowed: [String], path: String) -> [FieldError] {
        guard let value else { return [.required(path, "must specify one of \(allowed.joined(separator: ", "))")] }
        return allowed.contains(value.stringValue ?? "") ? [] : [.notSupported(path, value, allowed)]
    }

    var columns: [Table.Column] { [.name, Table.Column("Webhooks", type: "integer"), .age] }
    func cells(_ object: JSON) -> [JSON] {
        [Cells.name(object), .int(Int64(object["webhooks"]?.arrayValue?.count ?? 0)), Cells.age(object)]
    }
}

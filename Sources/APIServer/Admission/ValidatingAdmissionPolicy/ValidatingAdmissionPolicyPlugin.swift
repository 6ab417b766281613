import APIMachinery
import CEL

/// `ValidatingAdmissionPolicy`: evaluates every ValidatingAdmissionPolicy whose bindings apply to a write, as
/// upstream's plugin. Policies and bindings come from watch-fed caches (compiled when they change); a binding
/// applies its policy when the policy's `matchConstraints` and the binding's `matchResources` both match;
/// each param the binding names is evaluated in turn. Failed validations are enforced by the binding's
/// actions: Deny refuses (the first refusal is reported, 422 unless the validation names a reason), Warn
/// adds a `Warning` header, Audit an audit annotation. Broken configuration (a missing param, an unknown
/// paramKind, a selector that does not parse) refuses under `failurePolicy: Fail` and is skipped under Ignore.
struct ValidatingAdmissionPolicyPlugin: AdmissionPlugin {
    var name: String { "ValidatingAdmissionPolicy" }

    let policies = ClusterObjectCache(folder: "validatingadmissionpolicies", transform: AdmissionPolicyDefinition.init)
    let bindings = ClusterObjectCache(
        folder: "validatingadmissionpolicybindings", transform: AdmissionPolicyBinding.init)
    let namespaces = ClusterObjectCache<JSON>(folder: "namespaces") { $0 }
    let params = PolicyParams()
    let matcher = PolicyMatcher()

    /// A refusal waiting to be reported: who refused and why.
    private struct Denial {
        var policy: String
        var binding: String?
        var message: String
        var reason: StatusReason?
    }

    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        guard !PolicyMatcher.exempt.contains(attributes.resource) else { return }
        let bindings = try await self.bindings.values(context: context)
        guard !bindings.isEmpty else { return }
        let subject: JSON? = attributes.operation == .delete ? nil : object
        var namespace: JSON??
        func namespaceObject() async throws -> JSON? {
            if let namespace { return namespace }
            let found = try await lookUpNamespace(attributes, object: subject, context: context)
            namespace = .some(found)
            return found
        }
        var denials: [Denial] = []
        for policy in try await policies.values(context: context) {
            let applicable = bindings.filter { $0.policyName == policy.name }
            guard !applicable.isEmpty, let constraints = policy.matchConstraints else { continue }
            let version: WebhookMatcher.MatchedVersion
            switch try await matcher.match(
                constraints, attributes, object: subject,
                namespaceLabels: {
                    try await namespaceObject()?.labels ?? [:]
                })
            {
            case .notMatched: continue
            case .misconfigured(let message):
                if policy.failOnError {
                    denials.append(Denial(policy: policy.name, message: "failed to configure policy: " + message))
                }
                continue
            case .matched(let matched): version = matched
            }
            var annotations: [(key: String, values: [String])] = []
            for binding in applicable {
                if let resources = binding.matchResources {
                    switch try await matcher.match(
                        resources, attributes, object: subject,
                        namespaceLabels: {
                            try await namespaceObject()?.labels ?? [:]
                        })
                    {
                    case .notMatched: continue
                    case .misconfigured(let message):
                        if policy.failOnError {
                            denials.append(
                                Denial(
                                    policy: policy.name, binding: binding.name,
                                    message: "failed to configure binding: " + message))
                        }
                        continue
                    case .matched: break
                    }
                }
                let found: [JSON?]
                do {
                    found = try await params.collect(
                        policy.paramKind, binding.paramRef, requestNamespace: attributes.namespace ?? "",
                        context: context)
                } catch let failure as PolicyParams.Failure {
                    if policy.failOnError {
                        denials.append(
                            Denial(
                                policy: policy.name, binding: binding.name,
                                message: "failed to configure binding: " + failure.message))
                    }
                    continue
                }
                guard !found.isEmpty else { continue }
                var variables = CELAdmission.bindings(
                    attributes, resource: version.resource, kind: version.kind,
                    object: subject.map { version.conversion?.fromStorage($0) ?? $0 },
                    oldObject: attributes.oldObject.map { version.conversion?.fromStorage($0) ?? $0 })
                variables["namespaceObject"] = try await Self.namespaceValue(attributes, namespaceObject)
                for param in found {
                    variables["params"] = param.map(CELValue.init(json:)) ?? .null
                    var evaluation = PolicyEvaluation(policy: policy, bindings: variables)
                    let outcome = evaluation.run()
                    for denial in outcome.denials {
                        enforce(denial, policy: policy, binding: binding, into: &denials)
                    }
                    for (key, value) in outcome.annotations {
                        if let index = annotations.firstIndex(where: { $0.key == key }) {
                            if !annotations[index].values.contains(value) { annotations[index].values.append(value) }
                        } else {
                            annotations.append((key, [value]))
                        }
                    }
                }
            }
            for (key, values) in annotations {
                AuditContext.current?.annotate(policy.name + "/" + key, values.joined(separator: ", "))
            }
        }
        if let first = denials.first { throw Self.error(first, attributes, object: object) }
    }

    /// Applies the binding's validation actions to one failed validation.
    private func enforce(
        _ denial: PolicyEvaluation.Denial, policy: AdmissionPolicyDefinition, binding: AdmissionPolicyBinding,
        into denials: inout [Denial]
    ) {
        for action in binding.actions {
            switch action {
            case .deny:
                denials.append(
                    Denial(policy: policy.name, binding: binding.name, message: denial.message, reason: denial.reason))
            case .warn:
                AdmissionWarnings.current?.add([
                    "Validation failed for ValidatingAdmissionPolicy '\(policy.name)' with binding '\(binding.name)': \(denial.message)"
                ])
            case .audit:
                let failure: JSON = [
                    [
                        "message": .string(denial.message), "policy": .string(binding.policyName),
                        "binding": .string(binding.name), "expressionIndex": .int(Int64(denial.index)),
                        "validationActions": .array(binding.actionNames.map(JSON.string)),
                    ]
                ]
                AuditContext.current?.annotate(
                    "validation.policy.admission.k8s.io/validation_failure", failure.jsonString)
            }
        }
    }

    /// Upstream's refusal: admission's Forbidden shape, with the reason (Invalid unless the validation names
    /// one) and its code, and the message repeated as the one cause.
    private static func error(_ denial: Denial, _ attributes: AdmissionAttributes, object: JSON) -> APIError {
        let who =
            denial.binding.map { "ValidatingAdmissionPolicy '\(denial.policy)' with binding '\($0)'" }
            ?? "ValidatingAdmissionPolicy '\(denial.policy)'"
        let message = who + " denied request: " + denial.message
        var error = attributes.forbidden(message, object: object)
        let reason = denial.reason ?? .invalid
        error.reason = reason
        switch reason {
        case .forbidden: error.code = 403
        case .unauthorized: error.code = 401
        case .requestEntityTooLarge: error.code = 413
        default: error.code = 422
        }
        error.details?["causes"] = [["message": .string(message)]]
        return error
    }

    /// The namespace a namespaced request is in; a Namespace's own requests have none, as upstream.
    private func lookUpNamespace(_ attributes: AdmissionAttributes, object: JSON?, context: RegistryContext)
        async throws -> JSON?
    {
        if attributes.resource == WebhookMatcher.namespaces {
            if attributes.subresource.isEmpty, attributes.operation != .delete, let object { return object }
            return try await namespaces.value(named: attributes.name, context: context)
        }
        guard let name = attributes.namespace, !name.isEmpty else { return nil }
        return try await namespaces.value(named: name, context: context)
    }

    /// `namespaceObject`: the request's namespace without its managed fields, null for cluster-scoped
    /// requests and for Namespaces themselves.
    private static func namespaceValue(_ attributes: AdmissionAttributes, _ lookUp: () async throws -> JSON?)
        async throws -> CELValue
    {
        guard attributes.resource != WebhookMatcher.namespaces, !(attributes.namespace ?? "").isEmpty,
            var namespace = try await lookUp()
        else { return .null }
        namespace.setMeta("managedFields", nil)
        return CELValue(json: namespace)
    }
}

import APIMachinery

/// `PodSecurity`: the Pod Security Standards from namespace labels, as upstream's pod-security-admission.
/// Pods that violate their namespace's `enforce` level are refused; violations of `warn` come back as warnings
/// and violations of `audit` as audit annotations. Pod controllers' templates are warned about and audited,
/// never refused (their pods meet enforcement when created). Namespace label changes are validated, and a
/// stricter `enforce` level is tried against the namespace's pods, whose violations come back as warnings.
struct PodSecurityAdmission: AdmissionPlugin {
    var name: String { "PodSecurity" }

    let configuration: PodSecurityConfiguration
    /// How many existing pods, and for how long, a new enforce level is tried against.
    let podCheckLimits: PodSecurityNamespaceCheck.Limits

    /// Each namespace's labels, kept by a watch as upstream keeps them by an informer.
    let namespaceLabels = ClusterObjectCache<[String: String]>(folder: "namespaces") { $0.labels }

    init(
        configuration: PodSecurityConfiguration = PodSecurityConfiguration(),
        podCheckLimits: PodSecurityNamespaceCheck.Limits = .upstream
    ) {
        self.configuration = configuration
        self.podCheckLimits = podCheckLimits
    }

    static let namespaces = GroupResource(group: "", resource: "namespaces")
    static let pods = GroupResource(group: "", resource: "pods")
    static let annotationPrefix = "pod-security.kubernetes.io/"

    /// Pod subresources that cannot change what the checks read.
    static let ignoredPodSubresources: Set<String> = [
        "exec", "attach", "binding", "eviction", "log", "portforward", "proxy", "status",
    ]

    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        guard attributes.operation == .create || attributes.operation == .update else { return }
        if attributes.resource == Self.namespaces {
            guard attributes.subresource.isEmpty else { return }
            try await validateNamespace(attributes, object: object, context: context)
        } else if attributes.resource == Self.pods {
            guard !Self.ignoredPodSubresources.contains(attributes.subresource) else { return }
            try await validatePod(attributes, object: object, context: context)
        } else if let template = Self.podTemplate(of: attributes.resource, in: object) {
            guard attributes.subresource.isEmpty else { return }
            try await validateTemplate(attributes, template: template, context: context)
        }
    }

    private func validatePod(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        guard !exempt(attributes) else { return }
        let (policy, errors) = try await policy(of: attributes.namespace ?? "", context: context)
        if errors.isEmpty, policy.enforce.level == .privileged, policy.audit.level == .privileged,
            policy.warn.level == .privileged
        {
            return
        }
        if attributes.operation == .update, let old = attributes.oldObject, !Self.isSignificantUpdate(object, old) {
            return
        }
        try evaluate(PodSecurityPod(pod: object), policy: policy, errors: errors, attributes: attributes, enforce: true)
    }

    private func validateTemplate(_ attributes: AdmissionAttributes, template: JSON, context: RegistryContext)
        async throws
    {
        guard !exempt(attributes) else { return }
        let (policy, errors) = try await policy(of: attributes.namespace ?? "", context: context)
        if errors.isEmpty, policy.audit.level == .privileged, policy.warn.level == .privileged { return }
        let pod = PodSecurityPod(
            annotations: template.annotations, spec: template["spec"] ?? .object(JSONObject()))
        try evaluate(pod, policy: policy, errors: errors, attributes: attributes, enforce: false)
    }

    /// Upstream's `EvaluatePod`: enforce (pods only) refuses, audit annotates, warn warns, each level and
    /// version evaluated once however many modes share it; no warnings on a request already refused.
    private func evaluate(
        _ pod: PodSecurityPod, policy: PodSecurityPolicy, errors: [FieldError], attributes: AdmissionAttributes,
        enforce: Bool
    ) throws {
        if let runtimeClass = pod.spec["runtimeClassName"]?.stringValue, !runtimeClass.isEmpty,
            configuration.exemptRuntimeClasses.contains(runtimeClass)
        {
            annotate("exempt", "runtimeClass")
            return
        }
        if !errors.isEmpty { annotate("error", "Failed to parse policy: " + Self.aggregate(errors)) }
        var results: [PodSecurityLevelVersion: PodSecurityResult] = [:]
        func result(_ levelVersion: PodSecurityLevelVersion) -> PodSecurityResult {
            if let cached = results[levelVersion] { return cached }
            let result = PodSecurityEvaluator.evaluate(pod, against: levelVersion)
            results[levelVersion] = result
            return result
        }
        var refusal: APIError?
        if enforce {
            annotate("enforce-policy", policy.enforce.description)
            let enforced = result(policy.enforce)
            if !enforced.allowed {
                refusal = attributes.forbidden(
                    "violates PodSecurity \(GoFormat.quote(policy.enforce.description)): \(enforced.forbiddenDetail)")
            }
        }
        let audited = result(policy.audit)
        if !audited.allowed {
            annotate(
                "audit-violations",
                "would violate PodSecurity \(GoFormat.quote(policy.audit.description)): \(audited.forbiddenDetail)")
        }
        if let refusal { throw refusal }
        let warned = result(policy.warn)
        if !warned.allowed {
            AdmissionWarnings.current?.add([
                "would violate PodSecurity \(GoFormat.quote(policy.warn.description)): \(warned.forbiddenDetail)"
            ])
        }
    }

    /// Exempt namespaces and users are never evaluated; the audit event says which exemption applied.
    private func exempt(_ attributes: AdmissionAttributes) -> Bool {
        if let namespace = attributes.namespace, configuration.exemptNamespaces.contains(namespace) {
            annotate("exempt", "namespace")
            return true
        }
        if let user = attributes.user?.name, configuration.exemptUsernames.contains(user) {
            annotate("exempt", "user")
            return true
        }
        return false
    }

    /// The namespace's policy from its labels in the cache (storage when the cache has not seen it yet).
    func policy(of namespace: String, context: RegistryContext) async throws -> (
        policy: PodSecurityPolicy, errors: [FieldError]
    ) {
        let labels: [String: String]
        do {
            if let cached = try await namespaceLabels.value(named: namespace, context: context) {
                labels = cached
            } else {
                labels = try await NamespaceLifecycle.namespace(namespace, context: context).labels
            }
        } catch {
            throw APIError.internalError("failed to lookup namespace \(namespace)")
        }
        return PodSecurityPolicy.resolve(labels: labels, defaults: configuration.defaults)
    }

    private func annotate(_ key: String, _ value: String) {
        AuditContext.current?.annotate(Self.annotationPrefix + key, value)
    }

    /// Field errors as upstream's aggregate prints them: one alone, several in brackets.
    static func aggregate(_ errors: [FieldError]) -> String {
        let rendered = errors.map(\.description)
        return rendered.count == 1 ? rendered[0] : "[" + rendered.joined(separator: ", ") + "]"
    }
}

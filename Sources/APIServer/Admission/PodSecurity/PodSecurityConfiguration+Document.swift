import APIMachinery

extension PodSecurityConfiguration {
    /// The API versions upstream's kube-apiserver reads a `PodSecurityConfiguration` in.
    static let apiVersions: Set<String> = [
        "pod-security.admission.config.k8s.io/v1", "pod-security.admission.config.k8s.io/v1beta1",
        "pod-security.admission.config.k8s.io/v1alpha1",
    ]

    /// Reads the plugin's document from an `AdmissionConfiguration` (its `configuration` for `PodSecurity`):
    /// unset defaults are privileged at latest, as upstream defaults them; bad levels and versions fail with
    /// upstream's field errors (`defaults.enforce: Invalid value: "x": must be one of …`).
    init(document: JSON) throws(PodSecurityConfigurationError) {
        guard let apiVersion = document["apiVersion"]?.stringValue, Self.apiVersions.contains(apiVersion),
            document["kind"]?.stringValue == "PodSecurityConfiguration"
        else {
            throw PodSecurityConfigurationError(
                message: "expected a PodSecurityConfiguration in pod-security.admission.config.k8s.io/v1, got "
                    + "\(document["kind"]?.stringValue ?? "no kind") in \(document["apiVersion"]?.stringValue ?? "no apiVersion")"
            )
        }
        var errors: [FieldError] = []
        let defaults = document["defaults"]
        func levelVersion(_ mode: String) -> PodSecurityLevelVersion {
            var result = PodSecurityLevelVersion(.privileged)
            if let value = defaults?[mode]?.stringValue {
                let (level, error) = PodSecurityLevel.parse(value)
                if let error { errors.append(.invalid("defaults.\(mode)", .string(value), error)) }
                result.level = level
            }
            if let value = defaults?[mode + "-version"]?.stringValue {
                let (version, error) = PodSecurityVersion.parse(value)
                if let error { errors.append(.invalid("defaults.\(mode)-version", .string(value), error)) }
                result.version = version
            }
            return result
        }
        let policy = PodSecurityPolicy(
            enforce: levelVersion("enforce"), audit: levelVersion("audit"), warn: levelVersion("warn"))
        func names(_ field: String) -> Set<String> {
            let values = document["exemptions"]?[field]?.arrayValue ?? []
            for (index, value) in values.enumerated() where (value.stringValue ?? "").isEmpty {
                errors.append(.invalid("exemptions.\(field)[\(index)]", value, "must be non-empty"))
            }
            return Set(values.compactMap(\.stringValue))
        }
        let usernames = names("usernames")
        let runtimeClasses = names("runtimeClasses")
        let namespaces = names("namespaces")
        guard errors.isEmpty else {
            let rendered = errors.map(\.description)
            throw PodSecurityConfigurationError(
                message: rendered.count == 1 ? rendered[0] : "[" + rendered.joined(separator: ", ") + "]")
        }
        self.init(
            defaults: policy, exemptUsernames: usernames, exemptRuntimeClasses: runtimeClasses,
            exemptNamespaces: namespaces)
    }
}

/// A `PodSecurityConfiguration` the server cannot start with, in upstream's words.
struct PodSecurityConfigurationError: Error, Equatable, CustomStringConvertible {
    var message: String
    var description: String { message }
}

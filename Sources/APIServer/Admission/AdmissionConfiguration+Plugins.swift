import APIMachinery

/// What an `AdmissionConfiguration` sets for the plugins that read one. Each document is read up front;
/// a bad one fails start-up only when its plugin is enabled, as upstream reads configurations only for the
/// plugins it initialises.
struct AdmissionPluginSettings: Sendable {
    var podSecurity = PodSecurityConfiguration()
    /// Documents that could not be read, by plugin name.
    var errors: [String: AdmissionConfigurationError] = [:]
    /// Configured plugins whose documents were read and are not honoured here, with why; logged at start-up.
    var withoutEffect: [String: String] = [:]

    /// Every plugin at its defaults.
    init() {}

    /// API versions upstream reads a `ResourceQuota` configuration in.
    static let resourceQuotaVersions: Set<String> = [
        "apiserver.config.k8s.io/v1", "resourcequota.admission.k8s.io/v1beta1",
        "resourcequota.admission.k8s.io/v1alpha1",
    ]
    /// API versions upstream reads a webhook plugin's `WebhookAdmissionConfiguration` in.
    static let webhookVersions: Set<String> = ["apiserver.config.k8s.io/v1", "apiserver.k8s.io/v1alpha1"]

    init(_ configuration: AdmissionConfiguration) {
        func read(_ name: String, _ parse: (JSON) throws -> Void) {
            do {
                guard let document = try configuration.document(for: name) else { return }
                try parse(document)
            } catch let error as AdmissionConfigurationError {
                errors[name] = error
            } catch {
                errors[name] = AdmissionConfigurationError(
                    file: configuration.file,
                    "couldn't init admission plugin \"\(name)\" (configured in \"\(configuration.file)\"): \(error)")
            }
        }
        read("PodSecurity") { podSecurity = try PodSecurityConfiguration(document: $0) }
        read("ResourceQuota") { document in
            try Self.expect(document, kind: "Configuration", versions: Self.resourceQuotaVersions)
            let limited = document["limitedResources"]?.arrayValue ?? []
            for (index, entry) in limited.enumerated() where (entry["resource"]?.stringValue ?? "").isEmpty {
                throw SettingsError(description: "limitedResources[\(index)].resource: Required value")
            }
            if !limited.isEmpty {
                withoutEffect["ResourceQuota"] =
                    "its \(limited.count) limitedResources are read and not enforced yet"
            }
        }
        for name in ["ValidatingAdmissionWebhook", "MutatingAdmissionWebhook"] {
            read(name) { document in
                try Self.expect(document, kind: "WebhookAdmissionConfiguration", versions: Self.webhookVersions)
                let file = document["kubeConfigFile"]?.stringValue ?? ""
                guard !file.isEmpty else { return }
                guard file.hasPrefix("/") else {
                    throw SettingsError(description: "kubeConfigFile \"\(file)\" must be an absolute file path")
                }
                withoutEffect[name] = "its kubeConfigFile credentials are read and not presented to webhooks yet"
            }
        }
    }

    /// Fails when `document` is not `kind` in one of `versions`, in the scheme decoder's words.
    private static func expect(_ document: JSON, kind: String, versions: Set<String>) throws {
        let found = document["kind"]?.stringValue ?? ""
        let apiVersion = document["apiVersion"]?.stringValue ?? ""
        guard found == kind, versions.contains(apiVersion) else {
            throw SettingsError(description: "no kind \"\(found)\" is registered for version \"\(apiVersion)\"")
        }
    }

    /// The first error among `enabled` plugins' documents, in upstream's plugin order.
    func check(enabled: [String]) throws(AdmissionConfigurationError) {
        for name in enabled {
            if let error = errors[name] { throw error }
        }
    }
}

/// A plugin document's problem, before it is worded with the plugin and file names.
private struct SettingsError: Error, CustomStringConvertible {
    var description: String
}

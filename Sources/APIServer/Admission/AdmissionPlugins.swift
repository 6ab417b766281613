import APIMachinery
import Component

/// Every admission plugin upstream's kube-apiserver registers, which of them run here, and how the
/// three admission flags pick the enabled set. The order plugins run in is always upstream's fixed
/// `AllOrderedPlugins` order, whatever order the flags list them in.
public enum AdmissionPlugins {
    /// Upstream's `AllOrderedPlugins` (Kubernetes 1.32): the order enabled plugins run in.
    public static let allOrdered: [String] = [
        "AlwaysAdmit", "NamespaceAutoProvision", "NamespaceLifecycle", "NamespaceExists",
        "LimitPodHardAntiAffinityTopology", "LimitRanger", "ServiceAccount", "NodeRestriction",
        "TaintNodesByCondition", "AlwaysPullImages", "ImagePolicyWebhook", "PodSecurity", "PodNodeSelector", "Priority",
        "DefaultTolerationSeconds", "PodTolerationRestriction", "EventRateLimit", "ExtendedResourceToleration",
        "DefaultStorageClass", "StorageObjectInUseProtection", "OwnerReferencesPermissionEnforcement",
        "PersistentVolumeClaimResize", "RuntimeClass", "CertificateApproval", "CertificateSigning",
        "ClusterTrustBundleAttest", "CertificateSubjectRestriction", "DefaultIngressClass", "DenyServiceExternalIPs",
        // Upstream keeps webhooks, policies, quota and deny last, quota after everything that may still refuse.
        "MutatingAdmissionPolicy", "MutatingAdmissionWebhook", "ValidatingAdmissionPolicy",
        "ValidatingAdmissionWebhook", "ResourceQuota", "AlwaysDeny",
    ]

    /// Upstream's default-on plugins; those implemented here run when no flag names plugins.
    public static let defaultOn: Set<String> = [
        "NamespaceLifecycle", "LimitRanger", "ServiceAccount", "DefaultStorageClass", "PersistentVolumeClaimResize",
        "DefaultTolerationSeconds", "MutatingAdmissionWebhook", "ValidatingAdmissionWebhook", "ResourceQuota",
        "StorageObjectInUseProtection", "Priority", "TaintNodesByCondition", "RuntimeClass", "CertificateApproval",
        "CertificateSigning", "ClusterTrustBundleAttest", "CertificateSubjectRestriction", "DefaultIngressClass",
        "PodSecurity", "ValidatingAdmissionPolicy",
    ]

    /// The plugins implemented here, by upstream name, with what the admission configuration file sets.
    static func make(_ name: String, settings: AdmissionPluginSettings = AdmissionPluginSettings())
        -> (any AdmissionPlugin)?
    {
        switch name {
        case "AlwaysAdmit": AlwaysAdmit()
        case "NamespaceLifecycle": NamespaceLifecycle()
        case "NamespaceExists": NamespaceExists()
        case "LimitRanger": LimitRanger()
        case "ServiceAccount": ServiceAccountAdmission()
        case "PodSecurity": PodSecurityAdmission(configuration: settings.podSecurity)
        case "Priority": PriorityAdmission()
        case "NodeRestriction": NodeRestriction()
        case "TaintNodesByCondition": TaintNodesByCondition()
        case "DefaultTolerationSeconds": DefaultTolerationSeconds()
        case "RuntimeClass": RuntimeClassAdmission()
        case "DefaultStorageClass": DefaultClassAdmission.storageClass
        case "DefaultIngressClass": DefaultClassAdmission.ingressClass
        case "StorageObjectInUseProtection": StorageObjectInUseProtection()
        case "PersistentVolumeClaimResize": PersistentVolumeClaimResize()
        case "CertificateApproval": CertificateApproval()
        case "CertificateSigning": CertificateSigning()
        case "CertificateSubjectRestriction": CertificateSubjectRestriction()
        case "MutatingAdmissionWebhook": MutatingAdmissionWebhook()
        case "ValidatingAdmissionPolicy": ValidatingAdmissionPolicyPlugin()
        case "ValidatingAdmissionWebhook": ValidatingAdmissionWebhook()
        case "ResourceQuota": ResourceQuotaAdmission()
        case "AlwaysDeny": AlwaysDeny()
        default: nil
        }
    }

    /// The outcome of the admission flags: the chain to run, and the enabled plugins that do nothing here.
    public struct Selection: Sendable {
        /// Every enabled plugin, in upstream's order.
        public var enabled: [String]
        /// Enabled plugins upstream has and this server does not implement; they are logged at start-up.
        public var withoutEffect: [String]
        public var chain: AdmissionChain
    }

    /// Resolves the flags as upstream does: `--admission-control` names exactly the enabled plugins and
    /// cannot be combined with the other two; otherwise the default-on set plus `--enable-admission-plugins`,
    /// minus `--disable-admission-plugins` (enabling wins when a plugin is in both). Unknown names and
    /// overlaps fail with upstream's messages.
    static func select(
        admissionControl: [String]?, enable: [String]?, disable: [String]?,
        settings: AdmissionPluginSettings = AdmissionPluginSettings()
    ) throws(FlagError) -> Selection {
        var errors: [String] = []
        let known = Set(allOrdered)
        if admissionControl != nil, enable != nil || disable != nil {
            errors.append(
                "admission-control and enable-admission-plugins/disable-admission-plugins flags are mutually exclusive")
        }
        for name in admissionControl ?? [] where !known.contains(name) {
            errors.append("admission-control plugin \"\(name)\" is unknown")
        }
        for name in enable ?? [] where !known.contains(name) {
            errors.append("enable-admission-plugins plugin \"\(name)\" is unknown")
        }
        for name in disable ?? [] where !known.contains(name) {
            errors.append("disable-admission-plugins plugin \"\(name)\" is unknown")
        }
        let overlap = Set(enable ?? []).intersection(disable ?? []).sorted()
        if !overlap.isEmpty {
            errors.append(
                "[\(overlap.joined(separator: " "))] in enable-admission-plugins and disable-admission-plugins overlapped"
            )
        }
        guard errors.isEmpty else {
            // Upstream aggregates validation errors: one prints alone, several as a bracketed list.
            throw FlagError(message: errors.count == 1 ? errors[0] : "[" + errors.joined(separator: ", ") + "]")
        }
        let enabledSet: Set<String>
        if let admissionControl {
            enabledSet = Set(admissionControl)
        } else {
            // Upstream's default-on set, restricted to what runs here; naming a plugin enables it even
            // when it is also disabled, as upstream resolves the two lists.
            let defaults = defaultOn.filter { make($0) != nil }
            enabledSet = Set(defaults).subtracting(disable ?? []).union(enable ?? [])
        }
        let enabled = allOrdered.filter(enabledSet.contains)
        var plugins: [any AdmissionPlugin] = []
        var withoutEffect: [String] = []
        for name in enabled {
            if let plugin = make(name, settings: settings) {
                plugins.append(plugin)
            } else {
                withoutEffect.append(name)
            }
        }
        return Selection(enabled: enabled, withoutEffect: withoutEffect, chain: AdmissionChain(plugins: plugins))
    }
}

/// `AlwaysAdmit`: admits everything (deprecated upstream, still accepted).
struct AlwaysAdmit: AdmissionPlugin {
    var name: String { "AlwaysAdmit" }
}

/// `AlwaysDeny`: refuses every write, for tests, as upstream's.
struct AlwaysDeny: AdmissionPlugin {
    var name: String { "AlwaysDeny" }

    func admit(_ attributes: AdmissionAttributes, object: inout JSON, context: RegistryContext) async throws {
        throw attributes.forbidden("admission control is denying all modifications", object: object)
    }

    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        if attributes.operation == .delete {
            throw attributes.forbidden("admission control is denying all modifications", object: object)
        }
    }
}

extension AdmissionAttributes {
    /// Upstream's `admission.NewForbidden`: `<resource> "<name>" is forbidden: <reason>`, with the object's
    /// name (or generateName) when the request names none.
    func forbidden(_ reason: String, object: JSON? = nil) -> APIError {
        var name = self.name
        if name.isEmpty {
            name = object?.name.flatMap { $0.isEmpty ? nil : $0 } ?? object?.generateName ?? "Unknown"
        }
        var details: JSONObject = ["name": .string(name)]
        if !resource.group.isEmpty { details["group"] = .string(resource.group) }
        details["kind"] = .string(resource.resource)
        return APIError(
            code: 403, reason: .forbidden, message: "\(resource) \"\(name)\" is forbidden: \(reason)", details: details)
    }
}

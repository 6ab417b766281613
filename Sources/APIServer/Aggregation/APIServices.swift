import APIMachinery

/// apiregistration.k8s.io/v1 APIService: its resource definition, upstream's group priorities for the local
/// group versions, and a read-only view of an APIService's JSON that the strategy, the controller and the proxy
/// share.
enum APIServices {
    static let group = "apiregistration.k8s.io"
    /// Upstream's label on the APIServices the autoregister controller keeps: `onstart` for the server's own
    /// group versions (synced at start), `true` for custom resource groups (synced as definitions come and go).
    static let managedLabel = "kube-aggregator.kubernetes.io/automanaged"

    /// The built-in resource, stored where upstream's aggregator stores it.
    static let definition = ResourceDefinition(
        group: group, resource: "apiservices", kind: "APIService", namespaced: false, categories: ["api-extensions"],
        subresources: ["status"], storageFolder: "apiregistration.k8s.io/apiservices", strategy: APIServiceStrategy())

    /// Group and version priority of a local group version, from upstream v1.32's tables (the generic server's
    /// groups plus kube-apiserver's own); nil for one upstream does not register.
    static func localPriority(_ groupVersion: GroupVersion) -> (group: Int, version: Int)? {
        builtInPriorities[groupVersion.apiVersion]
    }

    /// Custom resource groups rank below every built-in group, each version alike (upstream's crdregistration).
    static let customResourcePriority = (group: 1000, version: 100)

    private static let builtInPriorities: [String: (group: Int, version: Int)] = [
        "v1": (18000, 1),
        "apiregistration.k8s.io/v1": (18000, 15),
        "apps/v1": (17800, 15),
        "events.k8s.io/v1": (17750, 15),
        "authentication.k8s.io/v1": (17700, 15),
        "authorization.k8s.io/v1": (17600, 15),
        "autoscaling/v1": (17500, 15),
        "autoscaling/v2": (17500, 30),
        "batch/v1": (17400, 15),
        "certificates.k8s.io/v1": (17300, 15),
        "networking.k8s.io/v1": (17200, 15),
        "policy/v1": (17100, 15),
        "rbac.authorization.k8s.io/v1": (17000, 15),
        "storage.k8s.io/v1": (16800, 15),
        "apiextensions.k8s.io/v1": (16700, 15),
        "admissionregistration.k8s.io/v1": (16700, 15),
        "scheduling.k8s.io/v1": (16600, 15),
        "coordination.k8s.io/v1": (16500, 15),
        "node.k8s.io/v1": (16300, 15),
        "discovery.k8s.io/v1": (16200, 15),
        "flowcontrol.apiserver.k8s.io/v1": (16100, 21),
    ]

    /// `<version>.<group>`, the only name an APIService may have (`v1.` for the core group).
    static func name(_ groupVersion: GroupVersion) -> String { groupVersion.version + "." + groupVersion.group }
}

/// The parts of an APIService's JSON the server acts on.
struct APIServiceView: Sendable, Equatable {
    /// `spec.service`: where a remote group version is served.
    struct ServiceReference: Sendable, Equatable, Hashable {
        var namespace: String
        var name: String
        var port: Int
    }

    let object: JSON

    init(_ object: JSON) { self.object = object }

    var name: String { object.name ?? "" }
    var spec: JSON { object["spec"] ?? .null }
    var group: String { spec["group"]?.stringValue ?? "" }
    var version: String { spec["version"]?.stringValue ?? "" }
    var groupVersion: GroupVersion { GroupVersion(group: group, version: version) }
    var groupPriorityMinimum: Int { Int(spec["groupPriorityMinimum"]?.intValue ?? 0) }
    var versionPriority: Int { Int(spec["versionPriority"]?.intValue ?? 0) }
    var insecureSkipTLSVerify: Bool { spec["insecureSkipTLSVerify"]?.boolValue ?? false }
    /// The PEM bundle `spec.caBundle` holds (base64 in JSON); nil when absent or not base64.
    var caBundle: [UInt8]? { spec["caBundle"]?.stringValue.flatMap(Base64.decode) }
    var managed: String? { object.labels[APIServices.managedLabel] }

    /// nil for a local APIService, served by this server itself.
    var service: ServiceReference? {
        guard let service = spec["service"], service != .null else { return nil }
        return ServiceReference(
            namespace: service["namespace"]?.stringValue ?? "", name: service["name"]?.stringValue ?? "",
            port: Int(service["port"]?.intValue ?? 443))
    }

    /// The status of the `Available` condition (`True`, `False`, `Unknown`), nil when absent.
    var available: String? {
        (object["status"]?["conditions"]?.arrayValue ?? []).first { $0["type"]?.stringValue == "Available" }?[
            "status"]?.stringValue
    }

    var availableReason: String? {
        (object["status"]?["conditions"]?.arrayValue ?? []).first { $0["type"]?.stringValue == "Available" }?[
            "reason"]?.stringValue
    }
}

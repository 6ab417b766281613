import APIMachinery

/// apiextensions.k8s.io/v1 CustomResourceDefinition: its resource definition, and a read-only view of a
/// definition's JSON that the strategy, the controller and the resource table share.
enum CustomResourceDefinitions {
    static let group = "apiextensions.k8s.io"
    /// Upstream's finalizer: a deleted definition waits until every custom resource of it is gone.
    static let cleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io"
    static let kind = GroupVersionKind(group: group, version: "v1", kind: "CustomResourceDefinition")

    /// The built-in resource serving the definitions themselves, stored where upstream stores them.
    static let definition = ResourceDefinition(
        group: group, resource: "customresourcedefinitions", kind: "CustomResourceDefinition", namespaced: false,
        shortNames: ["crd", "crds"], categories: ["api-extensions"], subresources: ["status"],
        storageFolder: "apiextensions.k8s.io/customresourcedefinitions", strategy: CustomResourceDefinitionStrategy())
}

/// The parts of a CustomResourceDefinition's JSON the server acts on.
struct CustomResourceDefinitionView: Sendable {
    let object: JSON

    init(_ object: JSON) { self.object = object }

    var spec: JSON { object["spec"] ?? .null }
    var status: JSON { object["status"] ?? .null }
    var name: String { object.name ?? "" }
    var group: String { spec["group"]?.stringValue ?? "" }
    var namespaced: Bool { spec["scope"]?.stringValue == "Namespaced" }
    var names: JSON { spec["names"] ?? .null }
    var acceptedNames: JSON { status["acceptedNames"] ?? .null }
    var versions: [JSON] { spec["versions"]?.arrayValue ?? [] }
    var storageVersion: String? {
        versions.first { $0["storage"]?.boolValue == true }?["name"]?.stringValue
    }
    var storedVersions: [String] { status["storedVersions"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    var conditions: [JSON] { status["conditions"]?.arrayValue ?? [] }
    var isTerminating: Bool { object["metadata"]?["deletionTimestamp"] != nil }

    /// The status of the condition of `type` (`True`, `False`, `Unknown`), nil when absent.
    func condition(_ type: String) -> String? {
        conditions.first { $0["type"]?.stringValue == type }?["status"]?.stringValue
    }

    var isEstablished: Bool { condition("Established") == "True" }

    /// The versions' subresources: per version, as v1 puts them.
    func subresources(of version: JSON) -> JSON? { version["subresources"] }
}

/// Sets one condition in `status.conditions`, keeping its transition time when its status did not change,
/// as upstream's SetCRDCondition does.
func setCustomResourceDefinitionCondition(
    _ object: inout JSON, type: String, status: String, reason: String, message: String
) {
    var conditions = object["status"]?["conditions"]?.arrayValue ?? []
    let index = conditions.firstIndex { $0["type"]?.stringValue == type }
    var transition = JSON.string(Timestamp.now())
    if let index, conditions[index]["status"]?.stringValue == status,
        let kept = conditions[index]["lastTransitionTime"]
    {
        transition = kept
    }
    let condition: JSON = [
        "type": .string(type), "status": .string(status), "lastTransitionTime": transition,
        "reason": .string(reason), "message": .string(message),
    ]
    if let index {
        conditions[index] = condition
    } else {
        conditions.append(condition)
    }
    object.set(["status", "conditions"], to: .array(conditions))
}

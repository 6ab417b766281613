import APIMachinery

/// `DefaultTolerationSeconds`: a new pod that does not tolerate the `not-ready` and `unreachable` NoExecute
/// taints gets upstream's tolerations of them for 300 seconds, so the taint eviction controller evicts it five
/// minutes after its node fails rather than at once.
struct DefaultTolerationSeconds: AdmissionPlugin {
    var name: String { "DefaultTolerationSeconds" }

    /// Upstream's `--default-not-ready-toleration-seconds` and `--default-unreachable-toleration-seconds`.
    static let seconds: Int64 = 300
    static let taints = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]

    func admit(_ attributes: AdmissionAttributes, object: inout JSON, context: RegistryContext) async throws {
        guard attributes.resource == PriorityAdmission.pods, attributes.subresource.isEmpty,
            attributes.operation == .create
        else { return }
        var tolerations = object["spec"]?["tolerations"]?.arrayValue ?? []
        let before = tolerations.count
        for key in Self.taints where !tolerations.contains(where: { Self.tolerates($0, key: key) }) {
            tolerations.append([
                "key": .string(key), "operator": "Exists", "effect": "NoExecute",
                "tolerationSeconds": .int(Self.seconds),
            ])
        }
        if tolerations.count != before { object.set(["spec", "tolerations"], to: .array(tolerations)) }
    }

    /// Whether `toleration` already covers the NoExecute taint `key` (any value), as upstream checks.
    static func tolerates(_ toleration: JSON, key: String) -> Bool {
        let effect = toleration["effect"]?.stringValue ?? ""
        guard effect.isEmpty || effect == "NoExecute" else { return false }
        let tolerationKey = toleration["key"]?.stringValue ?? ""
        let exists = toleration["operator"]?.stringValue == "Exists"
        return tolerationKey == key || (tolerationKey.isEmpty && exists)
    }
}

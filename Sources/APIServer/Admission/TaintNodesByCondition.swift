import APIMachinery

/// `TaintNodesByCondition`: a new Node gets the `node.kubernetes.io/not-ready:NoSchedule` taint unless it has
/// it already, so no pod is scheduled to it before it reports Ready; the node lifecycle controller removes the
/// taint once the node's Ready condition is True, as upstream's plugin and controller divide the work.
struct TaintNodesByCondition: AdmissionPlugin {
    var name: String { "TaintNodesByCondition" }

    static let nodes = GroupResource(group: "", resource: "nodes")
    static let notReadyKey = "node.kubernetes.io/not-ready"

    func admit(_ attributes: AdmissionAttributes, object: inout JSON, context: RegistryContext) async throws {
        guard attributes.resource == Self.nodes, attributes.subresource.isEmpty, attributes.operation == .create
        else { return }
        var taints = object["spec"]?["taints"]?.arrayValue ?? []
        // Upstream's MatchTaint: the same key and effect, whatever the value.
        let tainted = taints.contains {
            $0["key"]?.stringValue == Self.notReadyKey && $0["effect"]?.stringValue == "NoSchedule"
        }
        guard !tainted else { return }
        taints.append(["key": .string(Self.notReadyKey), "effect": "NoSchedule"])
        object.set(["spec", "taints"], to: .array(taints))
    }
}

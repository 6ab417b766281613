import APIMachinery
import Authorization

/// `NodeRestriction`: a node (`system:node:<name>`) may change only its own Node and Lease, may create
/// only mirror pods bound to itself, and may update the status of, evict or delete only pods bound to
/// itself; it may not set labels reserved for the cluster's administrators. Upstream's messages.
struct NodeRestriction: AdmissionPlugin {
    var name: String { "NodeRestriction" }

    static let mirrorAnnotation = "kubernetes.io/config.mirror"

    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        guard let user = attributes.user, let node = NodeAuthorizer.nodeName(of: user) else { return }
        guard !node.isEmpty else {
            throw attributes.forbidden("could not determine node from user \"\(user.name)\"", object: object)
        }
        switch (attributes.resource.group, attributes.resource.resource) {
        case ("", "pods"): try pod(node, attributes, object)
        case ("", "nodes"): try self.node(node, attributes, object)
        case ("coordination.k8s.io", "leases"):
            if attributes.operation == .create, object.name != node {
                throw attributes.forbidden(
                    "can only access node lease with the same name as the requesting node", object: object)
            }
        default: return
        }
    }

    private func pod(_ node: String, _ attributes: AdmissionAttributes, _ object: JSON) throws {
        let boundTo = (attributes.oldObject ?? object)["spec"]?["nodeName"]?.stringValue ?? ""
        switch (attributes.subresource, attributes.operation) {
        case ("", .create):
            guard object["metadata"]?["annotations"]?[Self.mirrorAnnotation] != nil else {
                throw attributes.forbidden(
                    "pod does not have \"\(Self.mirrorAnnotation)\" annotation, node \"\(node)\" can only create mirror pods",
                    object: object)
            }
            guard boundTo == node else {
                throw attributes.forbidden(
                    "node \"\(node)\" can only create pods with spec.nodeName set to itself", object: object)
            }
        case ("", .delete):
            guard boundTo == node else {
                throw attributes.forbidden(
                    "node \"\(node)\" can only delete pods with spec.nodeName set to itself", object: object)
            }
        case ("status", _):
            guard boundTo == node else {
                throw attributes.forbidden(
                    "node \"\(node)\" can only update pod status for pods with spec.nodeName set to itself",
                    object: object)
            }
        case ("eviction", _):
            guard boundTo == node else {
                throw attributes.forbidden(
                    "node \"\(node)\" can only evict pods with spec.nodeName set to itself", object: object)
            }
        case ("", .update):
            throw attributes.forbidden(
                "unexpected operation \"UPDATE\", node \"\(node)\" can only create and delete mirror pods",
                object: object)
        default: return
        }
    }

    private func node(_ node: String, _ attributes: AdmissionAttributes, _ object: JSON) throws {
        let requested = attributes.name.isEmpty ? (object.name ?? "") : attributes.name
        guard requested == node else {
            throw attributes.forbidden(
                "node \"\(node)\" is not allowed to modify node \"\(requested)\"", object: object)
        }
        guard attributes.operation != .delete, attributes.subresource.isEmpty || attributes.subresource == "status"
        else { return }
        let old = attributes.oldObject
        if attributes.operation == .update, let old, old["spec"]?["taints"] != object["spec"]?["taints"] {
            throw attributes.forbidden("node \"\(node)\" is not allowed to modify taints", object: object)
        }
        let oldLabels = old?["metadata"]?["labels"]?.objectValue
        var changed: [String] = []
        for (key, value) in object["metadata"]?["labels"]?.objectValue?.entries ?? []
        where oldLabels?[key] != value && Self.isForbidden(label: key) {
            changed.append(key)
        }
        for (key, _) in oldLabels?.entries ?? []
        where object["metadata"]?["labels"]?[key] == nil && Self.isForbidden(label: key) {
            changed.append(key)
        }
        guard changed.isEmpty else {
            let labels = Set(changed).sorted().joined(separator: ", ")
            if attributes.operation == .create {
                throw attributes.forbidden(
                    "node \"\(node)\" is not allowed to set the following labels: \(labels)", object: object)
            }
            throw attributes.forbidden("is not allowed to modify labels: \(labels)", object: object)
        }
    }

    /// Labels upstream keeps from kubelets: the `node-restriction.kubernetes.io/` namespace, and any other
    /// kubernetes.io or k8s.io label not in the kubelet's well-known set.
    static func isForbidden(label: String) -> Bool {
        let parts = label.split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return false }
        let namespace = String(parts[0])
        if namespace == "node-restriction.kubernetes.io" || namespace.hasSuffix(".node-restriction.kubernetes.io") {
            return true
        }
        let reserved =
            namespace == "kubernetes.io" || namespace.hasSuffix(".kubernetes.io") || namespace == "k8s.io"
            || namespace.hasSuffix(".k8s.io")
        guard reserved else { return false }
        if namespace == "kubelet.kubernetes.io" || namespace.hasSuffix(".kubelet.kubernetes.io") { return false }
        if namespace == "node.kubernetes.io" || namespace.hasSuffix(".node.kubernetes.io") { return false }
        return !kubeletLabels.contains(label)
    }

    static let kubeletLabels: Set<String> = [
        "kubernetes.io/hostname", "kubernetes.io/arch", "kubernetes.io/os", "beta.kubernetes.io/arch",
        "beta.kubernetes.io/os", "beta.kubernetes.io/instance-type", "node.kubernetes.io/instance-type",
        "failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region",
        "topology.kubernetes.io/zone", "topology.kubernetes.io/region",
    ]
}

public import APIMachinery

/// `--authorization-mode=Node`: what a kubelet (`system:node:<name>` in `system:nodes`) may do, as
/// upstream's node authorizer with `AuthorizeNodeWithSelectors` off. Secrets, config maps, claims,
/// volumes and service-account tokens are readable only through a pod bound to the node; leases only
/// the node's own in `kube-node-lease`; everything else by the `system:node` role's rules, which the
/// NodeRestriction admission plugin narrows further. Requests from other users get no opinion.
public struct NodeAuthorizer: Authorizer {
    private let graph: @Sendable () -> NodeGraph

    /// `graph` is read once per request; it must answer from memory.
    public init(graph: @escaping @Sendable () -> NodeGraph) { self.graph = graph }

    /// Upstream's `NodeIdentity`: the node's name when the user is one, nil otherwise.
    public static func nodeName(of user: UserInfo) -> String? {
        let prefix = "system:node:"
        guard user.groups.contains("system:nodes"), user.name.hasPrefix(prefix) else { return nil }
        return String(user.name.dropFirst(prefix.count))
    }

    public func authorize(_ attributes: Attributes) -> Decision {
        guard let node = Self.nodeName(of: attributes.user) else { return .noOpinion(reason: "") }
        guard !node.isEmpty else { return .noOpinion(reason: "unknown node") }
        if attributes.isResourceRequest {
            switch (attributes.apiGroup, attributes.resource) {
            case ("", "secrets"): return readNamespaced(node, .secret, attributes)
            case ("", "configmaps"): return readNamespaced(node, .configMap, attributes)
            case ("", "persistentvolumeclaims"):
                if attributes.subresource == "status" { return statusUpdate(node, .persistentVolumeClaim, attributes) }
                return get(node, .persistentVolumeClaim, attributes)
            case ("", "persistentvolumes"): return get(node, .persistentVolume, attributes)
            case ("", "serviceaccounts"): return createToken(node, attributes)
            case ("coordination.k8s.io", "leases"): return lease(node, attributes)
            default: break
            }
        }
        if BootstrapPolicy.ClusterRoles.node.contains(where: { $0.allows(attributes) }) { return .allow() }
        return .noOpinion(reason: "")
    }

    private func readNamespaced(_ node: String, _ kind: NodeGraph.Kind, _ attributes: Attributes) -> Decision {
        guard ["get", "list", "watch"].contains(attributes.verb) else {
            return .noOpinion(reason: "can only read resources of this type")
        }
        if !attributes.subresource.isEmpty {
            return .noOpinion(reason: "cannot read subresource \(attributes.subresource)")
        }
        if attributes.namespace.isEmpty { return .noOpinion(reason: "can only read namespaced object of this type") }
        return related(node, kind, attributes)
    }

    private func get(_ node: String, _ kind: NodeGraph.Kind, _ attributes: Attributes) -> Decision {
        guard attributes.verb == "get" else {
            return .noOpinion(reason: "can only get individual resources of this type")
        }
        if !attributes.subresource.isEmpty {
            return .noOpinion(reason: "cannot get subresource \(attributes.subresource)")
        }
        return related(node, kind, attributes)
    }

    private func statusUpdate(_ node: String, _ kind: NodeGraph.Kind, _ attributes: Attributes) -> Decision {
        guard ["update", "patch"].contains(attributes.verb) else {
            return .noOpinion(reason: "can only get/update/patch this type")
        }
        guard attributes.subresource == "status" else {
            return .noOpinion(reason: "can only update status subresource")
        }
        return related(node, kind, attributes)
    }

    private func createToken(_ node: String, _ attributes: Attributes) -> Decision {
        guard attributes.verb == "create", attributes.subresource == "token" else {
            return .noOpinion(reason: "can only create tokens for individual service accounts")
        }
        return related(node, .serviceAccount, attributes)
    }

    private func lease(_ node: String, _ attributes: Attributes) -> Decision {
        guard ["get", "create", "update", "patch", "delete"].contains(attributes.verb) else {
            return .noOpinion(reason: "can only get, create, update, patch, or delete a node lease")
        }
        guard attributes.namespace == "kube-node-lease" else {
            return .noOpinion(reason: "can only access leases in the kube-node-lease namespace")
        }
        if !attributes.subresource.isEmpty {
            return .noOpinion(reason: "cannot modify subresource \(attributes.subresource)")
        }
        // A create names no object in its URL; NodeRestriction checks the body's name.
        if attributes.verb != "create", attributes.name != node {
            return .noOpinion(reason: "can only access node lease with the same name as the requesting node")
        }
        return .allow()
    }

    /// Upstream's final step: a named object reachable from the node.
    private func related(_ node: String, _ kind: NodeGraph.Kind, _ attributes: Attributes) -> Decision {
        guard !attributes.name.isEmpty else { return .noOpinion(reason: "No Object name found") }
        let reference = NodeGraph.Reference(
            kind, namespace: kind == .persistentVolume ? "" : attributes.namespace, name: attributes.name)
        guard graph().hasPath(from: node, to: reference) else {
            return .noOpinion(reason: "no relationship found between node '\(node)' and this object")
        }
        return .allow()
    }
}

import APIMachinery

/// Binding a pod to a node, one way for both of upstream's endpoints: the pods' `binding` subresource and the
/// older namespaced `bindings` resource, whose object names the pod in its own `metadata.name`.
enum PodBinding {
    static let kind = GroupVersionKind(group: "", version: "v1", kind: "Binding")

    /// core/v1 `bindings`, create only, served by the pods' store as upstream's `BindingREST` serves both.
    static let resource = VirtualResource(group: "", resource: "bindings", kind: "Binding", namespaced: true) {
        request, server in
        guard let pods = server.stores[APIServer.storeKey("", "v1", "pods")] else {
            throw APIError.resourceNotFound()
        }
        var options = WriteOptions()
        options.dryRun = request.dryRun
        options.user = request.user
        let name = request.body["metadata"]?["name"]?.stringValue ?? ""
        try await bind(request.body, store: pods, namespace: request.namespace, name: name, options: options)
        return success
    }

    /// Sets `spec.nodeName` of pod `name` to the binding's target; a pod already bound is a conflict.
    static func bind(_ binding: JSON, store: RegistryStore, namespace: String?, name: String, options: WriteOptions)
        async throws
    {
        guard let node = binding["target"]?["name"]?.stringValue, !node.isEmpty else {
            throw APIError.invalid(kind: kind, name: name, errors: [.required("target.name", "")])
        }
        // Upstream's binding storage writes the pod below the field manager: the pod's managedFields stay.
        var options = options
        options.fieldManager = nil
        _ = try await store.update(namespace: namespace, name: name, target: .binding, options: options) { old in
            if let current = old["spec"]?["nodeName"]?.stringValue, !current.isEmpty {
                throw APIError.conflict(
                    store.groupResource, name: name, reason: "pod \(name) is already assigned to node \"\(current)\"")
            }
            var bound = old
            bound.set(["spec", "nodeName"], to: .string(node))
            return bound
        }
    }

    /// What upstream answers a binding with: a bare success Status, 201.
    static let success: JSON = [
        "kind": "Status", "apiVersion": "v1", "metadata": .object(JSONObject()), "status": "Success", "code": 201,
    ]
}

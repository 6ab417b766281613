import APIMachinery

extension APIServer {
    private static let scaleKind = GroupVersionKind(group: "autoscaling", version: "v1", kind: "Scale")

    /// A custom resource's `scale` subresource: an autoscaling/v1 Scale read from and written to the paths
    /// its definition names, so `kubectl scale` and autoscalers work on it.
    func handleCustomResourceScale(
        _ request: HTTPRequest, info: RequestInfo, store: RegistryStore, scale: CustomResourceScale
    ) async throws -> HTTPResponse {
        let definition = store.definition
        if !definition.namespaced, info.namespace != nil { throw APIError.resourceNotFound() }
        let namespace = definition.namespaced ? info.namespace : nil
        let name = info.name ?? ""
        guard let specPath = JSONFieldPath(scale.specReplicasPath)?.fieldNames else {
            throw APIError.internalError("invalid specReplicasPath \(scale.specReplicasPath)")
        }
        switch info.verb {
        case "get":
            return .json(Self.scale(of: try await store.get(namespace: namespace, name: name), scale))
        case "update", "patch":
            if ApplyRequest.matches(request) || Self.isStrategicMergePatch(request) {
                throw APIError.unsupportedMediaType(
                    request.header("content-type") ?? "",
                    accepted: ["application/json-patch+json", "application/merge-patch+json"])
            }
            let patch = info.verb == "patch" ? try PatchRequest(request) : nil
            let body: JSON? = info.verb == "update" ? try decodeBody(request) : nil
            var options = WriteOptions(
                dryRun: request.query["dryRun"] == "All", fieldManager: WriteOptions.fieldManager(request),
                user: request.user)
            options.subresource = "scale"
            let (object, _) = try await store.update(namespace: namespace, name: name, options: options) { old in
                let current = Self.scale(of: old, scale)
                let desired = try patch?.apply(to: current, kind: Self.scaleKind) ?? body ?? current
                guard let replicas = desired["spec"]?["replicas"]?.intValue, replicas >= 0 else {
                    throw APIError.invalid(
                        kind: Self.scaleKind, name: name,
                        errors: [
                            .invalid(
                                "spec.replicas", desired["spec"]?["replicas"] ?? .null,
                                "should be greater than or equal to 0")
                        ])
                }
                if let version = desired.resourceVersion, !version.isEmpty, version != old.resourceVersion {
                    throw APIError.staleUpdate(store.groupResource, name: name)
                }
                var updated = old
                updated.set(specPath, to: .int(replicas))
                updated.setMeta("resourceVersion", nil)
                return updated
            }
            return .json(Self.scale(of: object, scale))
        default:
            throw APIError.methodNotAllowed()
        }
    }

    /// The Scale view of a custom resource at its definition's paths.
    static func scale(of object: JSON, _ scale: CustomResourceScale) -> JSON {
        var metadata = JSONObject()
        for field in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
            if let value = object["metadata"]?[field] { metadata[field] = value }
        }
        let specReplicas = JSONFieldPath(scale.specReplicasPath)?.value(in: object)?.intValue ?? 0
        let statusReplicas = JSONFieldPath(scale.statusReplicasPath)?.value(in: object)?.intValue ?? 0
        var status: JSONObject = ["replicas": .int(statusReplicas)]
        if let path = scale.labelSelectorPath, let selector = JSONFieldPath(path)?.value(in: object)?.stringValue {
            status["selector"] = .string(selector)
        }
        return [
            "kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": .object(metadata),
            "spec": ["replicas": .int(specReplicas)], "status": .object(status),
        ]
    }
}

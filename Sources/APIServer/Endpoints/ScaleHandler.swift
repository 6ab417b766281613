import APIMachinery

extension APIServer {
    /// The `scale` subresource (autoscaling/v1 Scale) over a workload's `spec.replicas`, as `kubectl scale` uses it.
    func handleScale(
        _ request: HTTPRequest, info: RequestInfo, store: RegistryStore, namespace: String?, write: WriteOptions
    )
        async throws -> HTTPResponse
    {
        let name = info.name ?? ""
        switch info.verb {
        case "get":
            return .json(Self.scale(of: try await store.get(namespace: namespace, name: name)))
        case "patch" where ApplyRequest.matches(request):
            return try await applyScale(request, info: info, store: store, namespace: namespace, write: write)
        case "update", "patch":
            let patch = info.verb == "patch" ? try PatchRequest(request) : nil
            let body: JSON? = info.verb == "update" ? try decodeBody(request) : nil
            var options = write
            options.subresource = "scale"
            let (object, _) = try await store.update(namespace: namespace, name: name, options: options) { old in
                let current = Self.scale(of: old)
                var desired = current
                let scaleKind = GroupVersionKind(group: "autoscaling", version: "v1", kind: "Scale")
                if let patch {
                    desired = try patch.apply(to: current, kind: scaleKind)
                } else if let body {
                    desired = body
                }
                guard let replicas = desired["spec"]?["replicas"]?.intValue, replicas >= 0 else {
                    throw APIError.invalid(
                        kind: GroupVersionKind(group: "autoscaling", version: "v1", kind: "Scale"), name: name,
                        errors: [
                            .invalid(
                                "spec.replicas", desired["spec"]?["replicas"] ?? .null,
                                "must be greater than or equal to 0")
                        ])
                }
                if let version = desired.resourceVersion, !version.isEmpty, version != old.resourceVersion {
                    throw APIError.staleUpdate(store.groupResource, name: name)
                }
                var updated = old
                updated.set(["spec", "replicas"], to: .int(replicas))
                return updated
            }
            return .json(Self.scale(of: object))
        default:
            throw APIError.methodNotAllowed()
        }
    }

    /// The Scale view of a workload: desired replicas, observed replicas and the selector as a string.
    static func scale(of object: JSON) -> JSON {
        var selector = ""
        if let value = object["spec"]?["selector"] {
            selector = (try? LabelSelector(object: value))?.description ?? ""
            if value["matchLabels"] == nil, value["matchExpressions"] == nil, let map = value.objectValue {
                selector = map.entries.map { "\($0.key)=\($0.value.stringValue ?? "")" }.joined(separator: ",")
            }
        }
        var metadata = JSONObject()
        for field in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
            if let value = object["metadata"]?[field] { metadata[field] = value }
        }
        return [
            "kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": .object(metadata),
            "spec": ["replicas": .int(object["spec"]?["replicas"]?.intValue ?? 0)],
            "status": ["replicas": .int(object["status"]?["replicas"]?.intValue ?? 0), "selector": .string(selector)],
        ]
    }

    /// pods/eviction: deletes the pod (PodDisruptionBudgets are checked once the disruption controller exists).
    func evict(_ request: HTTPRequest, store: RegistryStore, namespace: String?, name: String, write: WriteOptions)
        async throws -> HTTPResponse
    {
        let body = try decodeBody(request)
        let given = body["deleteOptions"]
        let options = try DeleteOptions(query: [:], body: given == .null ? .none : given)
        var write = write
        write.dryRun = write.dryRun || options.dryRun
        _ = try await store.delete(namespace: namespace, name: name, options: options, write: write)
        return HTTPResponse.json(
            [
                "kind": "Status", "apiVersion": "v1", "metadata": .object(JSONObject()), "status": "Success",
                "code": 201,
            ],
            status: .created)
    }
}

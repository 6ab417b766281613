public import APIMachinery

extension RESTClient {
    /// GET and decode the body; a non-2xx answer throws `StatusError`.
    public func getJSON(path: String, query: Query = [:]) async throws -> JSON {
        try Self.decode(try await get(path: path, query: query))
    }

    /// POST `object` (create) and decode the created object.
    public func postJSON(path: String, query: Query = [:], _ object: JSON) async throws -> JSON {
        try Self.decode(try await post(path: path, query: query, body: object.encoded()))
    }

    /// PUT `object` (update; include `metadata.resourceVersion` for optimistic concurrency).
    public func putJSON(path: String, query: Query = [:], _ object: JSON) async throws -> JSON {
        try Self.decode(try await put(path: path, query: query, body: object.encoded()))
    }

    /// PATCH with `patch` in the format `type` and decode the patched object.
    public func patchJSON(path: String, query: Query = [:], _ patch: JSON, type: PatchType = .merge) async throws
        -> JSON
    {
        try Self.decode(
            try await self.patch(path: path, query: query, body: patch.encoded(), contentType: type.rawValue))
    }

    /// DELETE, optionally with `DeleteOptions`, and decode the answer (the object, or a `Status`).
    public func deleteJSON(path: String, query: Query = [:], options: JSON? = nil) async throws -> JSON {
        try Self.decode(try await delete(path: path, query: query, body: options?.encoded()))
    }

    static func decode(_ response: Response) throws -> JSON {
        do {
            return try JSON.parse(response.body)
        } catch {
            throw ClientError.invalidResponse("body is not JSON: \(error.message)")
        }
    }
}

/// Paths of the Kubernetes REST API, so callers do not assemble them by hand.
public enum ResourcePath {
    /// `/api/v1` for the core group, else `/apis/<group>/<version>`.
    public static func groupVersion(group: String, version: String) -> String {
        group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
    }

    /// A collection or one object: `<group-version>[/namespaces/<ns>]/<resource>[/<name>[/<subresource>]]`.
    public static func path(
        group: String = "", version: String = "v1", namespace: String? = nil, resource: String,
        name: String? = nil, subresource: String? = nil
    ) -> String {
        var path = groupVersion(group: group, version: version)
        if let namespace { path += "/namespaces/\(segment(namespace))" }
        path += "/\(resource)"
        if let name {
            path += "/\(segment(name))"
            if let subresource { path += "/\(subresource)" }
        }
        return path
    }

    /// Names are DNS labels or subdomains, but a caller's typo should not become another path.
    private static func segment(_ text: String) -> String {
        Query.escape(text)
    }
}

public import APIMachinery
public import Logging

/// Typed verbs on one kind, as client-go's generated clientsets: models in, models out, and a non-2xx answer
/// thrown as `StatusError`.
///
/// ```swift
/// let pods = ResourceClient<Pod>(client: client, namespace: "default")
/// var pod = try await pods.get("web")
/// pod.metadata.labels["tier"] = "front"
/// pod = try await pods.update(pod)
/// ```
public struct ResourceClient<Object: KubernetesObject>: Sendable {
    public let client: RESTClient
    /// The namespace of every request (nil: all namespaces for lists and watches; ignored for cluster-scoped
    /// kinds); `create` and `update` use the object's own namespace when it has one.
    public let namespace: String?
    let logger: Logger
    /// Whether watched objects come without `metadata.managedFields`, for a cache that drops them anyway
    /// (`StripManagedFields`): a watch then never builds them, which were up to half of a pod's JSON.
    public var dropsManagedFields = false

    public init(client: RESTClient, namespace: String? = nil, logger: Logger = Logger(label: "kubeswift.client")) {
        self.client = client
        self.namespace = namespace
        self.logger = logger
    }

    /// GET one object.
    public func get(_ name: String) async throws -> Object {
        try Self.model(try await client.getJSON(path: path(name: name)))
    }

    /// LIST one page (all objects when `limit` is nil). Items that do not decode are logged and skipped.
    public func list(
        labelSelector: String = "", fieldSelector: String = "", limit: Int? = nil, continueToken: String? = nil,
        resourceVersion: String? = nil
    ) async throws -> ListPage<Object> {
        var query = selectors(labelSelector: labelSelector, fieldSelector: fieldSelector)
        if let limit { query.append("limit", String(limit)) }
        if let continueToken, !continueToken.isEmpty {
            query.append("continue", continueToken)
        } else if let resourceVersion, !resourceVersion.isEmpty {
            query.append("resourceVersion", resourceVersion)
        }
        let list = try await client.getJSON(path: path(), query: query)
        var items: [Object] = []
        for item in list["items"]?.arrayValue ?? [] {
            do {
                items.append(try Object(json: item))
            } catch {
                logger.error(
                    "skipping an item that does not decode",
                    metadata: [
                        "resource": "\(Object.resource)",
                        "key": "\(ObjectKey(namespace: item.namespace ?? "", name: item.name ?? ""))",
                        "error": "\(error)",
                    ])
            }
        }
        return ListPage(
            items: items, resourceVersion: list[path: "metadata", "resourceVersion"]?.stringValue ?? "",
            continueToken: list[path: "metadata", "continue"]?.stringValue)
    }

    /// POST `object`; returns what the server stored.
    public func create(_ object: Object, dryRun: Bool = false, fieldManager: String? = nil) async throws -> Object {
        try Self.model(
            try await client.postJSON(
                path: path(namespace: object.metadata.namespace), query: writeQuery(dryRun, fieldManager),
                object.toJSON()))
    }

    /// PUT `object` (its `metadata.resourceVersion`, when set, makes a stale update fail with 409 Conflict).
    public func update(_ object: Object, dryRun: Bool = false, fieldManager: String? = nil) async throws -> Object {
        try await put(object, subresource: nil, dryRun: dryRun, fieldManager: fieldManager)
    }

    /// PUT `object`'s status through the `status` subresource.
    public func updateStatus(_ object: Object, dryRun: Bool = false, fieldManager: String? = nil) async throws
        -> Object
    {
        try await put(object, subresource: "status", dryRun: dryRun, fieldManager: fieldManager)
    }

    /// PATCH the object `name` (or its `subresource`) with `patch` in the format `type`.
    public func patch(
        _ name: String, _ patch: JSON, type: PatchType = .merge, subresource: String? = nil, dryRun: Bool = false,
        fieldManager: String? = nil
    ) async throws -> Object {
        try Self.model(
            try await client.patchJSON(
                path: path(name: name, subresource: subresource), query: writeQuery(dryRun, fieldManager), patch,
                type: type))
    }

    /// DELETE the object `name` with `options` (grace period, preconditions, propagation policy).
    public func delete(_ name: String, options: DeleteOptions? = nil) async throws {
        _ = try await client.deleteJSON(path: path(name: name), options: options?.toJSON())
    }

    private func put(_ object: Object, subresource: String?, dryRun: Bool, fieldManager: String?) async throws
        -> Object
    {
        guard let name = object.metadata.name, !name.isEmpty else {
            throw ClientError.invalidConfiguration("cannot update a \(Object.resource.kind) without metadata.name")
        }
        return try Self.model(
            try await client.putJSON(
                path: path(namespace: object.metadata.namespace, name: name, subresource: subresource),
                query: writeQuery(dryRun, fieldManager), object.toJSON()))
    }

    func path(namespace objectNamespace: String? = nil, name: String? = nil, subresource: String? = nil)
        -> String
    {
        let namespace = objectNamespace.flatMap { $0.isEmpty ? nil : $0 } ?? self.namespace
        return Object.resource.path(namespace: namespace, name: name, subresource: subresource)
    }

    func selectors(labelSelector: String, fieldSelector: String) -> Query {
        var query = Query()
        if !labelSelector.isEmpty { query.append("labelSelector", labelSelector) }
        if !fieldSelector.isEmpty { query.append("fieldSelector", fieldSelector) }
        return query
    }

    private func writeQuery(_ dryRun: Bool, _ fieldManager: String?) -> Query {
        var query = Query()
        if dryRun { query.append("dryRun", "All") }
        if let fieldManager { query.append("fieldManager", fieldManager) }
        return query
    }

    /// Decodes a server answer; one that is not an `Object` is the server's fault, not the caller's.
    static func model(_ json: JSON) throws -> Object {
        do {
            return try Object(json: json)
        } catch {
            throw ClientError.invalidResponse("the answer is not a \(Object.resource.kind): \(error)")
        }
    }

    /// Decodes one watch event; nil (logged) when its object is not an `Object`.
    static func change(_ event: WatchEvent, logger: Logger) -> WatchChange<Object>? {
        switch event.type {
        case .bookmark:
            return .bookmark(resourceVersion: event.object.resourceVersion ?? "")
        case .error:
            return event.statusError.map { .error($0) }
        case .added, .modified, .deleted:
            let object: Object
            do {
                object = try Object(json: event.object)
            } catch {
                let key = ObjectKey(namespace: event.object.namespace ?? "", name: event.object.name ?? "")
                logger.error(
                    "skipping a watch event whose object does not decode",
                    metadata: ["resource": "\(Object.resource)", "key": "\(key)", "error": "\(error)"])
                return nil
            }
            switch event.type {
            case .added: return .added(object)
            case .modified: return .modified(object)
            default: return .deleted(object)
            }
        }
    }
}

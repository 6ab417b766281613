public import APIMachinery
public import Logging

/// Any object reduced to its type and metadata, as client-go's `metav1.PartialObjectMetadata`: what the garbage
/// collector and the namespace controller need of resources they have no model for (custom ones included).
/// Everything but `apiVersion`, `kind` and `metadata` is dropped on decoding, so a cache of them stays small.
public struct PartialObjectMetadata: KubernetesObject {
    /// A placeholder: the resource of each object is the `DynamicListWatch`'s, and `apiVersion`/`kind` say its kind.
    public static let resource = ResourceDescriptor(
        group: "meta.k8s.io", version: "v1", kind: "PartialObjectMetadata", resource: "", namespaced: true)

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta

    public init(apiVersion: String? = nil, kind: String? = nil, metadata: ObjectMeta = ObjectMeta()) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
    }

    public init(json: JSON) throws(ModelError) {
        self.init()
        for entry in try ModelField.object(json) {
            switch entry.key {
            case "apiVersion": apiVersion = try ModelField.value(entry.value, "apiVersion")
            case "kind": kind = try ModelField.value(entry.value, "kind")
            case "metadata": metadata = try ModelField.value(entry.value, "metadata") ?? ObjectMeta()
            default: continue
            }
        }
    }

    public func toJSON() -> JSON {
        var object = JSONObject()
        object.put("apiVersion", apiVersion)
        object.put("kind", kind)
        object.entries.append(("metadata", metadata.toJSON()))
        return .object(object)
    }

    /// Fills `apiVersion` and `kind` from `resource` where the server left them out (list items may).
    mutating func fillType(from resource: ResourceDescriptor) {
        if apiVersion?.isEmpty ?? true { apiVersion = resource.apiVersion }
        if kind?.isEmpty ?? true { kind = resource.kind }
    }

    /// Ready for a cache: the type filled in and `managedFields` dropped, as kube-controller-manager trims its
    /// informers' objects (no controller reads them, and they are often most of the metadata).
    mutating func trimmedForCache(from resource: ResourceDescriptor) {
        fillType(from: resource)
        metadata.managedFields = []
    }
}

/// Lists and watches any resource as `PartialObjectMetadata`, for informers over kinds known only from
/// discovery (client-go's metadata informers), without `managedFields`. Items and events that do not decode are
/// logged and skipped.
public struct DynamicListWatch: ListWatch {
    public typealias Object = PartialObjectMetadata

    /// The resource listed and watched; its `apiVersion` and `kind` fill in objects that lack them.
    public let resource: ResourceDescriptor
    public let scope: ListScope
    let client: RESTClient
    let logger: Logger

    public init(
        client: RESTClient, resource: ResourceDescriptor, scope: ListScope = .all,
        logger: Logger = Logger(label: "kubeswift.reflector")
    ) {
        self.client = client
        self.resource = resource
        self.scope = scope
        self.logger = logger
    }

    public func list(limit: Int, continueToken: String?, resourceVersion: String) async throws
        -> ListPage<PartialObjectMetadata>
    {
        var query = selectors()
        query.append("limit", String(limit))
        if let continueToken, !continueToken.isEmpty {
            query.append("continue", continueToken)
        } else if !resourceVersion.isEmpty {
            query.append("resourceVersion", resourceVersion)
        }
        let list = try await client.getJSON(path: resource.path(namespace: scope.namespace), query: query)
        var items: [PartialObjectMetadata] = []
        for item in list["items"]?.arrayValue ?? [] {
            do {
                var object = try PartialObjectMetadata(json: item)
                object.trimmedForCache(from: resource)
                items.append(object)
            } catch {
                logger.error(
                    "skipping an item that does not decode",
                    metadata: ["resource": "\(resource)", "error": "\(error)"])
            }
        }
        return ListPage(
            items: items, resourceVersion: list[path: "metadata", "resourceVersion"]?.stringValue ?? "",
            continueToken: list[path: "metadata", "continue"]?.stringValue)
    }

    public func watch(resourceVersion: String, timeout: Duration) async throws -> WatchChanges<PartialObjectMetadata> {
        var query = selectors()
        query.append("allowWatchBookmarks", "true")
        query.append("timeoutSeconds", String(max(1, timeout.components.seconds)))
        if !resourceVersion.isEmpty { query.append("resourceVersion", resourceVersion) }
        let events = try await client.watch(path: resource.path(namespace: scope.namespace), query: query)
        let (changes, continuation) = WatchChanges<PartialObjectMetadata>.makeStream()
        let logger = self.logger
        let resource = self.resource
        let pump = Task {
            do {
                for try await event in events {
                    guard let change = ResourceClient<PartialObjectMetadata>.change(event, logger: logger) else {
                        continue
                    }
                    continuation.yield(Self.filled(change, from: resource))
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in pump.cancel() }
        return changes
    }

    private static func filled(_ change: WatchChange<PartialObjectMetadata>, from resource: ResourceDescriptor)
        -> WatchChange<PartialObjectMetadata>
    {
        switch change {
        case .added(var object):
            object.trimmedForCache(from: resource)
            return .added(object)
        case .modified(var object):
            object.trimmedForCache(from: resource)
            return .modified(object)
        case .deleted(var object):
            object.trimmedForCache(from: resource)
            return .deleted(object)
        case .bookmark, .error:
            return change
        }
    }

    private func selectors() -> Query {
        var query = Query()
        if !scope.labelSelector.isEmpty { query.append("labelSelector", scope.labelSelector) }
        if !scope.fieldSelector.isEmpty { query.append("fieldSelector", scope.fieldSelector) }
        return query
    }
}

extension RESTClient {
    /// GETs one object of any resource as its metadata; a missing object throws a 404 `StatusError`.
    public func getMetadata(_ resource: ResourceDescriptor, namespace: String?, name: String) async throws
        -> PartialObjectMetadata
    {
        var object = try PartialObjectMetadata(
            json: try await getJSON(path: resource.path(namespace: namespace, name: name)))
        object.fillType(from: resource)
        return object
    }
}

public import Logging

/// One page of a list: the objects, the list's resourceVersion, and the token for the next page.
public struct ListPage<Object: KubernetesObject>: Sendable {
    public var items: [Object]
    public var resourceVersion: String
    /// Empty or nil on the last page.
    public var continueToken: String?

    public init(items: [Object], resourceVersion: String, continueToken: String? = nil) {
        self.items = items
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
    }
}

/// One decoded change of a watch stream.
public enum WatchChange<Object: KubernetesObject>: Sendable {
    case added(Object)
    case modified(Object)
    case deleted(Object)
    /// The server has sent everything up to `resourceVersion`.
    case bookmark(resourceVersion: String)
    /// An ERROR event's `Status`, such as 410 Expired when the watch's resourceVersion was compacted.
    case error(StatusError)
}

/// The changes of one watch, in the server's order; ends at the watch's timeout or when the connection breaks.
public typealias WatchChanges<Object: KubernetesObject> = AsyncThrowingStream<WatchChange<Object>, any Error>

/// What a reflector lists and watches, as client-go's `ListerWatcher`: the REST implementation talks to the API
/// server, tests script a fake.
public protocol ListWatch<Object>: Sendable {
    associatedtype Object: KubernetesObject
    /// Lists one page of at most `limit` objects: from `continueToken` if given, else at `resourceVersion`
    /// ("" for the latest, "0" for any).
    func list(limit: Int, continueToken: String?, resourceVersion: String) async throws -> ListPage<Object>
    /// Watches the changes after `resourceVersion`, with bookmarks, for at most `timeout`.
    func watch(resourceVersion: String, timeout: Duration) async throws -> WatchChanges<Object>
}

/// Which objects of a kind an informer sees: a namespace (nil for all) and label and field selectors.
public struct ListScope: Sendable, Hashable, CustomStringConvertible {
    public var namespace: String?
    /// Label selector in its text form (`app=web,tier!=db`); empty selects everything.
    public var labelSelector: String
    /// Field selector in its text form (`spec.nodeName=n1`); empty selects everything.
    public var fieldSelector: String

    public init(namespace: String? = nil, labelSelector: String = "", fieldSelector: String = "") {
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
    }

    /// Everything of the kind, in every namespace.
    public static let all = ListScope()

    public var description: String {
        var parts = [namespace.map { "namespace \($0)" } ?? "all namespaces"]
        if !labelSelector.isEmpty { parts.append("labels \(labelSelector)") }
        if !fieldSelector.isEmpty { parts.append("fields \(fieldSelector)") }
        return parts.joined(separator: ", ")
    }
}

/// Lists and watches `Object` in a `ListScope` through a `RESTClient`. Items and events that do not decode as
/// `Object` are logged and skipped: one malformed object must not stop a cache.
public struct RESTListWatch<Object: KubernetesObject>: ListWatch {
    public let scope: ListScope
    let resources: ResourceClient<Object>

    /// `dropsManagedFields`: watched objects come without `metadata.managedFields` (`ResourceClient`).
    public init(
        client: RESTClient, scope: ListScope = .all, logger: Logger = Logger(label: "kubeswift.reflector"),
        dropsManagedFields: Bool = false
    ) {
        self.scope = scope
        var resources = ResourceClient<Object>(client: client, namespace: scope.namespace, logger: logger)
        resources.dropsManagedFields = dropsManagedFields
        self.resources = resources
    }

    public func list(limit: Int, continueToken: String?, resourceVersion: String) async throws -> ListPage<Object> {
        try await resources.list(
            labelSelector: scope.labelSelector, fieldSelector: scope.fieldSelector, limit: limit,
            continueToken: continueToken, resourceVersion: resourceVersion)
    }

    public func watch(resourceVersion: String, timeout: Duration) async throws -> WatchChanges<Object> {
        try await resources.watch(
            resourceVersion: resourceVersion, labelSelector: scope.labelSelector, fieldSelector: scope.fieldSelector,
            timeout: timeout)
    }
}

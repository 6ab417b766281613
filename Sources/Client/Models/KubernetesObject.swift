public import APIMachinery

/// A value that converts to and from its Kubernetes JSON form; every generated model conforms.
public protocol JSONModel: Sendable, Hashable {
    /// Decodes `json`; fields the model does not know are kept and written back by `toJSON()`.
    init(json: JSON) throws(ModelError)
    /// The JSON form, with any unknown fields read by `init(json:)` in place.
    func toJSON() -> JSON
}

/// A top-level kind served by the API (Pod, Node, Lease, …), with where it lives.
public protocol KubernetesObject: JSONModel {
    /// Group, version, kind and REST resource of this model.
    static var resource: ResourceDescriptor { get }
    /// Name, namespace, labels and the other fields every object has.
    var metadata: ObjectMeta { get set }
}

/// Where a kind is served: `/api/v1/namespaces/<ns>/pods`, `/apis/apps/v1/deployments`, ….
public struct ResourceDescriptor: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var kind: String
    /// The plural, lower-case REST name (`pods`, `endpointslices`).
    public var resource: String
    public var namespaced: Bool

    public init(group: String, version: String, kind: String, resource: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.kind = kind
        self.resource = resource
        self.namespaced = namespaced
    }

    /// `v1` or `<group>/<version>`, as `apiVersion` spells it.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// The collection path, across all namespaces when `namespace` is nil.
    public func path(namespace: String? = nil, name: String? = nil, subresource: String? = nil) -> String {
        ResourcePath.path(
            group: group, version: version, namespace: namespaced ? namespace : nil, resource: resource, name: name,
            subresource: subresource)
    }

    public var description: String { group.isEmpty ? resource : "\(resource).\(group)" }
}

/// Why a JSON document could not become a model.
public struct ModelError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The JSON path of the offending field, e.g. `spec.containers[0].ports[1].containerPort`.
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

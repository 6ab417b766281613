public import APIMachinery
public import Client

/// An rbac.authorization.k8s.io/v1 ClusterRole as the aggregation controller reads and writes it: typed
/// metadata, the rest kept as read. The client's generated models stop short of the RBAC kinds, and this
/// controller needs only `rules` beyond what authorization's `Role` already parses.
public struct ClusterRoleObject: KubernetesObject {
    public static let resource = ResourceDescriptor(
        group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole", resource: "clusterroles",
        namespaced: false)

    public var metadata: ObjectMeta
    /// Every field but `metadata` (`rules`, `aggregationRule`, `apiVersion`, `kind`, unknown ones), in order.
    public var fields: JSONObject

    public init(metadata: ObjectMeta = ObjectMeta(), fields: JSONObject = JSONObject()) {
        self.metadata = metadata
        self.fields = fields
    }

    public init(json: JSON) throws(ModelError) {
        guard var object = json.objectValue else {
            throw ModelError(path: "", message: "expected an object")
        }
        metadata = try ObjectMeta(json: object["metadata"] ?? .object(JSONObject()))
        object["metadata"] = nil
        fields = object
    }

    public func toJSON() -> JSON {
        var object = JSONObject()
        object["apiVersion"] = fields["apiVersion"] ?? .string(Self.resource.apiVersion)
        object["kind"] = fields["kind"] ?? .string(Self.resource.kind)
        object["metadata"] = metadata.toJSON()
        for (key, value) in fields where object[key] == nil { object[key] = value }
        return .object(object)
    }

    /// The role's `rules`, as JSON.
    public var rules: [JSON] {
        get { fields["rules"]?.arrayValue ?? [] }
        set { fields["rules"] = .array(newValue) }
    }
}

public import APIMachinery
public import Schemas

/// One served resource: its names, scope, subresources and the strategy that gives its behaviour.
public struct ResourceDefinition: Sendable {
    public var group: String
    public var version: String
    /// The plural name used in URLs (`pods`).
    public var resource: String
    public var kind: String
    public var singular: String
    public var namespaced: Bool
    public var shortNames: [String]
    public var categories: [String]
    /// Subresources served besides the object itself (`status`, `scale`, `binding`).
    public var subresources: [String]
    /// The storage folder under the prefix when it differs from the resource name, as upstream lays out keys.
    public var storageFolder: String
    public var strategy: any Strategy
    /// How this version maps to the stored one; nil when objects are stored as served.
    public var conversion: (any VersionConversion)?
    /// Where managedFields and server-side apply find the kind's field shapes: the built-in schemas, or a
    /// custom resource version's own.
    public var fieldSchemas: SchemaRegistry = .shared

    public init(
        group: String = "", version: String = "v1", resource: String, kind: String, namespaced: Bool = true,
        shortNames: [String] = [], categories: [String] = [], subresources: [String] = [],
        storageFolder: String? = nil, strategy: any Strategy, conversion: (any VersionConversion)? = nil
    ) {
        self.group = group
        self.version = version
        self.resource = resource
        self.kind = kind
        self.singular = kind.lowercased()
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.categories = categories
        self.subresources = subresources
        // Built-in kinds live at /registry/<resource> whatever their group, as upstream lays them out.
        self.storageFolder = storageFolder ?? resource
        self.strategy = strategy
        self.conversion = conversion
    }

    public var groupVersion: GroupVersion { GroupVersion(group: group, version: version) }
    public var groupResource: GroupResource { GroupResource(group: group, resource: resource) }
    public var groupVersionKind: GroupVersionKind { GroupVersionKind(group: group, version: version, kind: kind) }
    public var apiVersion: String { groupVersion.apiVersion }

    public static let allVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
}

extension ResourceDefinition {
    /// The kind of the stored objects: the served kind unless a conversion stores another.
    var storageKind: GroupVersionKind { conversion?.storageKind ?? groupVersionKind }

    /// The labels and the values of every field a field selector may name for this (stored) object.
    func selectorFields(_ object: JSON) -> SelectorFields {
        var fields = strategy.selectableFields(object)
        fields["metadata.name"] = object.name
        if namespaced { fields["metadata.namespace"] = object.namespace }
        return SelectorFields(labels: object.labels, fields: fields)
    }
}

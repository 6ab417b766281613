/// An API group and version, e.g. `apps/v1`; the core group is "".
public struct GroupVersion: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var version: String

    public init(group: String, version: String) {
        self.group = group
        self.version = version
    }

    /// Parses an `apiVersion` field: `v1` or `apps/v1`.
    public init?(apiVersion: String) {
        let parts = apiVersion.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1 where !parts[0].isEmpty: self.init(group: "", version: String(parts[0]))
        case 2 where !parts[0].isEmpty && !parts[1].isEmpty:
            self.init(group: String(parts[0]), version: String(parts[1]))
        default: return nil
        }
    }

    /// The `apiVersion` string objects carry.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var description: String { apiVersion }
}

/// A group and resource, as error messages name them (`deployments.apps`).
public struct GroupResource: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var resource: String

    public init(group: String, resource: String) {
        self.group = group
        self.resource = resource
    }

    public var description: String { group.isEmpty ? resource : "\(resource).\(group)" }
}

/// A resource in a group version, the unit the registry serves.
public struct GroupVersionResource: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var resource: String

    public init(group: String, version: String, resource: String) {
        self.group = group
        self.version = version
        self.resource = resource
    }

    public var groupVersion: GroupVersion { GroupVersion(group: group, version: version) }
    public var groupResource: GroupResource { GroupResource(group: group, resource: resource) }
    public var description: String { "\(groupVersion.apiVersion), Resource=\(resource)" }
}

/// A kind in a group version.
public struct GroupVersionKind: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var kind: String

    public init(group: String, version: String, kind: String) {
        self.group = group
        self.version = version
        self.kind = kind
    }

    public var groupVersion: GroupVersion { GroupVersion(group: group, version: version) }
    public var description: String { "\(groupVersion.apiVersion), Kind=\(kind)" }
}

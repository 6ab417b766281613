/// An object's namespace and name, client-go's `namespace/name` cache key as a type.
public struct ObjectKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Empty for cluster-scoped objects.
    public var namespace: String
    public var name: String

    public init(namespace: String = "", name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// Reads `ns/name` or `name`, as client-go's `SplitMetaNamespaceKey`; nil for more than one `/`.
    public init?(parsing key: String) {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: self.init(name: key)
        case 2: self.init(namespace: String(parts[0]), name: String(parts[1]))
        default: return nil
        }
    }

    /// `ns/name`, or `name` for cluster-scoped objects, as client-go's `MetaNamespaceKeyFunc`.
    public var description: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }

    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool {
        (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
    }
}

extension KubernetesObject {
    /// Where this object lives; an absent namespace or name reads as empty.
    public var key: ObjectKey { ObjectKey(namespace: metadata.namespace ?? "", name: metadata.name ?? "") }
}

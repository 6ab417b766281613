public import APIMachinery

/// What an admission plugin is told about one write, as upstream's `admission.Attributes`.
public struct AdmissionAttributes: Sendable {
    /// The write's kind, named as upstream's admission API names it.
    public enum Operation: String, Sendable {
        case create = "CREATE"
        case update = "UPDATE"
        case delete = "DELETE"
    }

    public var operation: Operation
    public var resource: GroupResource
    public var kind: GroupVersionKind
    /// "" for the main resource, otherwise "status", "scale", "finalize"…
    public var subresource: String
    /// Nil for cluster-scoped kinds.
    public var namespace: String?
    public var name: String
    public var user: UserInfo?
    /// Plugins must not have side effects (charge quota, create objects) on a dry run.
    public var dryRun: Bool
    /// The stored object, for updates and deletes.
    public var oldObject: JSON?

    public init(
        operation: Operation, resource: GroupResource, kind: GroupVersionKind, subresource: String = "",
        namespace: String?, name: String, user: UserInfo?, dryRun: Bool, oldObject: JSON? = nil
    ) {
        self.operation = operation
        self.resource = resource
        self.kind = kind
        self.subresource = subresource
        self.namespace = namespace
        self.name = name
        self.user = user
        self.dryRun = dryRun
        self.oldObject = oldObject
    }
}

/// One admission plugin. The mutating step runs after defaulting and before validation, the validating
/// step after validation and right before the write, as upstream orders them; either refuses the write
/// by throwing an `APIError`. A plugin that only mutates or only validates keeps the other default.
public protocol AdmissionPlugin: Sendable {
    /// The plugin's upstream name, as `--enable-admission-plugins` spells it.
    var name: String { get }
    func admit(_ attributes: AdmissionAttributes, object: inout JSON, context: RegistryContext) async throws
    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws
}

extension AdmissionPlugin {
    public func admit(_ attributes: AdmissionAttributes, object: inout JSON, context: RegistryContext) async throws {}
    public func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {}
}

/// The enabled plugins in upstream's order (every mutating step, then every validating step).
public struct AdmissionChain: Sendable {
    public var plugins: [any AdmissionPlugin]

    public init(plugins: [any AdmissionPlugin] = []) {
        self.plugins = plugins
    }

    func admit(_ attributes: AdmissionAttributes, object: inout JSON, context: RegistryContext) async throws {
        for plugin in plugins { try await plugin.admit(attributes, object: &object, context: context) }
    }

    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        for plugin in plugins { try await plugin.validate(attributes, object: object, context: context) }
    }
}

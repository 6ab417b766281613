import APIMachinery

/// `NamespaceExists`: every request in a namespace needs the namespace to exist.
struct NamespaceExists: AdmissionPlugin {
    var name: String { "NamespaceExists" }

    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        guard let namespace = attributes.namespace, !namespace.isEmpty,
            attributes.resource != NamespaceLifecycle.namespaces
        else { return }
        _ = try await NamespaceLifecycle.namespace(namespace, context: context)
    }
}

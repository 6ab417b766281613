import APIMachinery

/// `NamespaceExists`: every request in a namespace needs the namespace to exist.
struct NamespaceExists: AdmissionPlugin {
    var name: String { "NamespaceExists" }

    /// The namespaces that exist, kept by a watch as upstream's plugin keeps them by an informer.
    private let existing = ClusterObjectCache<Bool>(folder: "namespaces") { _ in true }

    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        guard let namespace = attributes.namespace, !namespace.isEmpty,
            attributes.resource != NamespaceLifecycle.namespaces
        else { return }
        // A namespace the cache has not seen yet may have just been created: storage has the last word.
        if try await existing.value(named: namespace, context: context) != nil { return }
        _ = try await NamespaceLifecycle.namespace(namespace, context: context)
    }
}

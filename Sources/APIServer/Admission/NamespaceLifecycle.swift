import APIMachinery
import Storage

/// `NamespaceLifecycle`: nothing new goes into a namespace that is missing or terminating, and the
/// namespaces the cluster cannot work without are never deleted. Deletes of other objects always pass,
/// so a terminating namespace can be emptied.
struct NamespaceLifecycle: AdmissionPlugin {
    var name: String { "NamespaceLifecycle" }

    /// Upstream's immortal namespaces.
    static let immortal: Set<String> = ["default", "kube-system", "kube-public"]

    static let namespaces = GroupResource(group: "", resource: "namespaces")

    func admit(_ attributes: AdmissionAttributes, object: inout JSON, context: RegistryContext) async throws {
        guard let namespace = attributes.namespace, !namespace.isEmpty, attributes.resource != Self.namespaces else {
            return
        }
        let stored = try await Self.namespace(namespace, context: context)
        guard attributes.operation == .create, stored["status"]?["phase"]?.stringValue == "Terminating" else { return }
        var error = attributes.forbidden(
            "unable to create new content in namespace \(namespace) because it is being terminated", object: object)
        error.details?["causes"] = [
            [
                "reason": "NamespaceTerminating", "message": .string("namespace \(namespace) is being terminated"),
                "field": "metadata.namespace",
            ]
        ]
        throw error
    }

    /// Deletes reach only the validating step here, so the immortal-namespace rule lives in it.
    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        if attributes.operation == .delete, attributes.resource == Self.namespaces,
            Self.immortal.contains(attributes.name)
        {
            throw attributes.forbidden("this namespace may not be deleted")
        }
    }

    /// The stored namespace, or upstream's NotFound for it. A point read the store answers from memory,
    /// so unlike upstream's informer it is never stale and needs no live-lookup fallback.
    static func namespace(_ name: String, context: RegistryContext) async throws -> JSON {
        guard let value = try await context.storage.get(key: context.storagePrefix + "/namespaces/" + name),
            let object = try? JSON.parse(value.value)
        else {
            throw APIError.notFound(namespaces, name: name)
        }
        return object
    }
}

import APIMachinery
import NIOConcurrencyHelpers
import Storage

/// `NamespaceLifecycle`: nothing new goes into a namespace that is missing or terminating, and the
/// namespaces the cluster cannot work without are never deleted. Deletes of other objects always pass,
/// so a terminating namespace can be emptied.
struct NamespaceLifecycle: AdmissionPlugin {
    var name: String { "NamespaceLifecycle" }

    /// Upstream's immortal namespaces.
    static let immortal: Set<String> = ["default", "kube-system", "kube-public"]

    static let namespaces = GroupResource(group: "", resource: "namespaces")

    /// How long a namespace deleted through this server is read from storage rather than the cache, so a
    /// create racing its deletion sees Terminating (upstream's forceLiveLookupTTL).
    static let liveLookupWindow: Duration = .seconds(30)

    /// Each namespace's phase, kept by a watch as upstream's plugin keeps it by an informer: on etcd a
    /// storage read per namespaced write would be an extra round trip.
    private let phases = ClusterObjectCache<String>(folder: "namespaces") {
        $0["status"]?["phase"]?.stringValue ?? "Active"
    }
    private let recentlyDeleted = NIOLockedValueBox<[String: ContinuousClock.Instant]>([:])

    func admit(_ attributes: AdmissionAttributes, object: inout JSON, context: RegistryContext) async throws {
        guard let namespace = attributes.namespace, !namespace.isEmpty, attributes.resource != Self.namespaces else {
            return
        }
        let phase = try await phase(of: namespace, context: context)
        guard attributes.operation == .create, phase == "Terminating" else { return }
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
        guard attributes.operation == .delete, attributes.resource == Self.namespaces else { return }
        if Self.immortal.contains(attributes.name) {
            throw attributes.forbidden("this namespace may not be deleted")
        }
        let now = ContinuousClock.now
        recentlyDeleted.withLockedValue { deleted in
            deleted = deleted.filter { now - $0.value < Self.liveLookupWindow }
            deleted[attributes.name] = now
        }
    }

    /// The namespace's phase from the cache; from storage when the cache has not seen it (just created, or
    /// missing: then upstream's NotFound) or when it was deleted through this server moments ago.
    private func phase(of namespace: String, context: RegistryContext) async throws -> String {
        let live = recentlyDeleted.withLockedValue { deleted in
            deleted[namespace].map { ContinuousClock.now - $0 < Self.liveLookupWindow } ?? false
        }
        if !live, let cached = try await phases.value(named: namespace, context: context) { return cached }
        return try await Self.namespace(namespace, context: context)["status"]?["phase"]?.stringValue ?? "Active"
    }

    /// The stored namespace, or upstream's NotFound for it.
    static func namespace(_ name: String, context: RegistryContext) async throws -> JSON {
        guard let value = try await context.storage.get(key: context.storagePrefix + "/namespaces/" + name),
            let object = try? JSON.parse(value.value)
        else {
            throw APIError.notFound(namespaces, name: name)
        }
        return object
    }
}

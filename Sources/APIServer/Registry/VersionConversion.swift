public import APIMachinery

/// How a served version's objects map to the version they are stored in, as upstream's conversion
/// functions do for events.k8s.io/v1 ↔ core/v1 Event (and will for autoscaling/v1 ↔ v2).
///
/// A resource with a conversion shares its storage prefix, and its watch cache, with the stored version.
/// `RegistryStore` converts requests with `toStorage` before the strategy's hooks run, so strategies,
/// selectable fields and table cells always see the stored shape; `ResponseEncoder` converts every
/// response with `fromStorage`. Metadata is the same in both shapes and must pass through unchanged.
public protocol VersionConversion: Sendable {
    /// The kind as it is stored; validation errors name it, as upstream's name the internal kind.
    var storageKind: GroupVersionKind { get }
    /// A served object in the stored shape, `apiVersion` included.
    func toStorage(_ object: JSON) -> JSON
    /// A stored object in the served shape, `apiVersion` included.
    func fromStorage(_ object: JSON) -> JSON
    /// The stored shape's name for a field selector label of the served version, or a 400 when the served
    /// version does not support it.
    func storageFieldLabel(_ label: String) throws(APIError) -> String
}

extension VersionConversion {
    /// Upstream's fallback for a served version's field labels: only the metadata fields every kind has.
    func metadataFieldLabel(_ label: String) throws(APIError) -> String {
        guard label == "metadata.name" || label == "metadata.namespace" else {
            throw APIError.badRequest(
                "\"\(label)\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"")
        }
        return label
    }

    /// `object` with top-level fields renamed through `names` (unnamed fields keep their name and place)
    /// and `apiVersion` set to `apiVersion`.
    func renamingFields(_ object: JSON, _ names: [String: String], apiVersion: String) -> JSON {
        guard case .object(let fields) = object else { return object }
        var renamed = JSONObject()
        for entry in fields.entries {
            renamed[names[entry.key] ?? entry.key] = entry.value
        }
        renamed["apiVersion"] = .string(apiVersion)
        return .object(renamed)
    }
}

import APIMachinery

/// `PersistentVolumeClaimResize`: a claim may grow only once bound, and only when its storage class (unchanged
/// by the update) sets `allowVolumeExpansion: true`, as upstream's plugin decides. Shrinking is the
/// claim's validation's business, not this plugin's.
struct PersistentVolumeClaimResize: AdmissionPlugin {
    var name: String { "PersistentVolumeClaimResize" }

    static let claims = GroupResource(group: "", resource: "persistentvolumeclaims")
    private let classes = ClusterObjectCache<Bool>(folder: "storageclasses") {
        $0["allowVolumeExpansion"]?.boolValue ?? false
    }

    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        guard attributes.operation == .update, attributes.resource == Self.claims, attributes.subresource.isEmpty,
            let old = attributes.oldObject
        else { return }
        guard let newSize = Self.requestedStorage(object), newSize > Self.requestedStorage(old) ?? Quantity()
        else { return }
        guard old["status"]?["phase"]?.stringValue == "Bound" else {
            throw attributes.forbidden("Only bound persistent volume claims can be expanded")
        }
        let className = Self.storageClass(object)
        guard !className.isEmpty, className == Self.storageClass(old),
            try await classes.value(named: className, context: context) == true
        else {
            throw attributes.forbidden(
                "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must "
                    + "support resize")
        }
    }

    static func requestedStorage(_ claim: JSON) -> Quantity? {
        claim["spec"]?["resources"]?["requests"]?["storage"].flatMap { try? Quantity(json: $0) }
    }

    /// The claim's class: the beta annotation wins over the field, as upstream's `GetPersistentVolumeClaimClass`.
    static func storageClass(_ claim: JSON) -> String {
        claim["metadata"]?["annotations"]?["volume.beta.kubernetes.io/storage-class"]?.stringValue
            ?? claim["spec"]?["storageClassName"]?.stringValue ?? ""
    }
}

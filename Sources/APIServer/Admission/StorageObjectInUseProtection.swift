import APIMachinery

/// `StorageObjectInUseProtection`: every new PersistentVolumeClaim and PersistentVolume gets its protection
/// finalizer at create, so one deleted while in use waits for the pvc- and pv-protection controllers to release it.
struct StorageObjectInUseProtection: AdmissionPlugin {
    var name: String { "StorageObjectInUseProtection" }

    static let finalizers: [GroupResource: String] = [
        GroupResource(group: "", resource: "persistentvolumeclaims"): "kubernetes.io/pvc-protection",
        GroupResource(group: "", resource: "persistentvolumes"): "kubernetes.io/pv-protection",
    ]

    func admit(_ attributes: AdmissionAttributes, object: inout JSON, context: RegistryContext) async throws {
        guard attributes.operation == .create, attributes.subresource.isEmpty,
            let finalizer = Self.finalizers[attributes.resource]
        else { return }
        var finalizers = object["metadata"]?["finalizers"]?.arrayValue ?? []
        guard !finalizers.contains(where: { $0.stringValue == finalizer }) else { return }
        finalizers.append(.string(finalizer))
        object.set(["metadata", "finalizers"], to: .array(finalizers))
    }
}

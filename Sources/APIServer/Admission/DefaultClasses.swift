import APIMachinery

/// `DefaultStorageClass` and `DefaultIngressClass`: a new claim or Ingress that names no class gets the
/// cluster's default one (the newest, when several are marked default), as upstream's two plugins do.
struct DefaultClassAdmission: AdmissionPlugin {
    let name: String
    /// The kind whose new objects are given a class.
    let resource: GroupResource
    /// Where the class name goes, and the legacy annotation that also counts as naming one.
    let classField: [String]
    let legacyAnnotation: String
    /// The classes' storage folder and the annotations that mark the default.
    let classFolder: String
    let defaultAnnotations: [String]

    static let storageClass = DefaultClassAdmission(
        name: "DefaultStorageClass", resource: GroupResource(group: "", resource: "persistentvolumeclaims"),
        classField: ["spec", "storageClassName"], legacyAnnotation: "volume.beta.kubernetes.io/storage-class",
        classFolder: "storageclasses",
        defaultAnnotations: [
            "storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class",
        ])

    static let ingressClass = DefaultClassAdmission(
        name: "DefaultIngressClass", resource: GroupResource(group: "networking.k8s.io", resource: "ingresses"),
        classField: ["spec", "ingressClassName"], legacyAnnotation: "kubernetes.io/ingress.class",
        classFolder: "ingressclasses", defaultAnnotations: ["ingressclass.kubernetes.io/is-default-class"])

    func admit(_ attributes: AdmissionAttributes, object: inout JSON, context: RegistryContext) async throws {
        guard attributes.operation == .create, attributes.resource == resource, attributes.subresource.isEmpty,
            object[path: classField] == nil, object["metadata"]?["annotations"]?[legacyAnnotation] == nil
        else { return }
        let prefix = context.storagePrefix + "/" + classFolder + "/"
        let stored = try await context.storage.range(
            start: prefix, end: RegistryStore.prefixEnd(prefix), limit: 0, revision: nil)
        let defaults = stored.items.compactMap { try? JSON.parse($0.value) }.filter { candidate in
            defaultAnnotations.contains { candidate["metadata"]?["annotations"]?[$0]?.stringValue == "true" }
        }
        // The newest default wins, then the name, as upstream breaks ties.
        let chosen = defaults.max { left, right in
            let (leftTime, rightTime) = (left.creationTimestamp ?? "", right.creationTimestamp ?? "")
            if leftTime != rightTime { return leftTime < rightTime }
            return (left.name ?? "") > (right.name ?? "")
        }
        if let name = chosen?.name { object.set(classField, to: .string(name)) }
    }
}

import APIMachinery

/// Restricted: only volume types that carry no host or cluster-wide storage reach (configMap, secret,
/// emptyDir, projected, downwardAPI, persistentVolumeClaim, ephemeral, csi, image).
struct RestrictedVolumesCheck: PodSecurityCheck {
    var id: String { "restrictedVolumes" }
    var level: PodSecurityLevel { .restricted }

    static let allowed: Set<String> = [
        "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
        "image",
    ]

    /// Every other volume source, by its JSON field name, which is how upstream names it in the detail.
    static let restricted: [String] = [
        "hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi", "glusterfs", "rbd",
        "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile", "vsphereVolume", "quobyte", "azureDisk",
        "photonPersistentDisk", "portworxVolume", "scaleIO", "storageos",
    ]

    func check(_ pod: PodSecurityPod, minor: Int) -> PodSecurityViolation? {
        var bad: [String] = []
        var types: [String] = []
        for volume in pod.spec["volumes"]?.arrayValue ?? [] {
            let set = { (key: String) in volume[key].map { !$0.isNull } ?? false }
            if Self.allowed.contains(where: set) { continue }
            bad.append(volume["name"]?.stringValue ?? "")
            types.append(Self.restricted.first(where: set) ?? "unknown")
        }
        guard !bad.isEmpty else { return nil }
        let sortedTypes = PodSecurityText.sortedSet(types)
        return PodSecurityViolation(
            reason: "restricted volume types",
            detail: PodSecurityText.pluralize("volume", "volumes", bad.count) + " " + PodSecurityText.joinQuote(bad)
                + " " + PodSecurityText.pluralize("uses", "use", bad.count) + " "
                + PodSecurityText.pluralize("restricted volume type", "restricted volume types", sortedTypes.count)
                + " " + PodSecurityText.joinQuote(sortedTypes))
    }
}

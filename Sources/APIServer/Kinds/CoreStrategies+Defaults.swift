import APIMachinery

/// Upstream's defaults for PersistentVolumes and PersistentVolumeClaims (core/v1 `SetDefaults_PersistentVolume`,
/// `SetDefaults_PersistentVolumeClaim`, `SetDefaults_PersistentVolumeClaimSpec` and the volume sources'), which
/// StatefulSets' claim templates share.
enum PersistentVolumeDefaults {
    @Sendable static func applyToVolume(_ object: inout JSON) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        if spec["persistentVolumeReclaimPolicy"] == nil { spec["persistentVolumeReclaimPolicy"] = "Retain" }
        if spec["volumeMode"] == nil { spec["volumeMode"] = "Filesystem" }
        PodSpecRules.applySourceDefaults(&spec)
        object["spec"] = spec
        if object["status"]?["phase"] == nil { object.set(["status", "phase"], to: "Pending") }
    }

    @Sendable static func applyToClaim(_ object: inout JSON) {
        if var spec = object["spec"], spec.objectValue != nil, spec["volumeMode"] == nil {
            spec["volumeMode"] = "Filesystem"
            object["spec"] = spec
        }
        if object["status"]?["phase"] == nil { object.set(["status", "phase"], to: "Pending") }
    }
}

/// discovery.k8s.io/v1 `SetDefaults_EndpointPort`: a port's protocol is TCP and its name, unset, is empty.
enum EndpointSliceDefaults {
    @Sendable static func apply(_ object: inout JSON) {
        guard var ports = object["ports"]?.arrayValue else { return }
        for index in ports.indices where ports[index].objectValue != nil {
            if ports[index]["protocol"] == nil { ports[index]["protocol"] = "TCP" }
            if ports[index]["name"] == nil { ports[index]["name"] = "" }
        }
        object["ports"] = .array(ports)
    }
}

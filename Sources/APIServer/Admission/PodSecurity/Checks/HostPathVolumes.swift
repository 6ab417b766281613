import APIMachinery

/// Baseline: no hostPath volumes (restricted's volume type check replaces it).
struct HostPathVolumesCheck: PodSecurityCheck {
    var id: String { "hostPathVolumes" }
    var level: PodSecurityLevel { .baseline }
    var replacedAtRestricted: Bool { true }

    func check(_ pod: PodSecurityPod, minor: Int) -> PodSecurityViolation? {
        let volumes = pod.spec["volumes"]?.arrayValue ?? []
        let bad = volumes.filter { $0["hostPath"].map { !$0.isNull } ?? false }.map {
            $0["name"]?.stringValue ?? ""
        }
        guard !bad.isEmpty else { return nil }
        return PodSecurityViolation(
            reason: "hostPath volumes",
            detail: PodSecurityText.pluralize("volume", "volumes", bad.count) + " " + PodSecurityText.joinQuote(bad))
    }
}

import APIMachinery

/// Restricted since v1.19: the pod or every container must set a RuntimeDefault or Localhost seccomp profile
/// (Windows pods exempt since v1.25).
struct SeccompProfileRestrictedCheck: PodSecurityCheck {
    var id: String { "seccompProfile_restricted" }
    var level: PodSecurityLevel { .restricted }
    var minimumMinor: Int { 19 }

    func check(_ pod: PodSecurityPod, minor: Int) -> PodSecurityViolation? {
        if minor >= 25, pod.isWindows { return nil }
        var values: [String] = []
        var podSets = false
        var podValid = false
        if let profile = pod.securityContext?["seccompProfile"], !profile.isNull {
            let type = profile["type"]?.stringValue ?? ""
            if SeccompProfileBaselineCheck.validType(type) {
                podValid = true
            } else {
                podSets = true
                values.append(type)
            }
        }
        var explicitlyBad: [String] = []
        var implicitlyBad: [String] = []
        for container in pod.containers {
            if let profile = container["securityContext"]?["seccompProfile"], !profile.isNull {
                let type = profile["type"]?.stringValue ?? ""
                if !SeccompProfileBaselineCheck.validType(type) {
                    explicitlyBad.append(PodSecurityPod.name(container))
                    values.append(type)
                }
            } else if !podValid {
                implicitlyBad.append(PodSecurityPod.name(container))
            }
        }
        if podSets || !explicitlyBad.isEmpty {
            return PodSecurityViolation(
                reason: "seccompProfile",
                detail: PodSecurityText.setters(pod: podSets, containers: explicitlyBad)
                    + " must not set securityContext.seccompProfile.type to "
                    + PodSecurityText.joinQuote(PodSecurityText.sortedSet(values)))
        }
        guard !implicitlyBad.isEmpty else { return nil }
        return PodSecurityViolation(
            reason: "seccompProfile",
            detail: "pod or " + PodSecurityText.containers(implicitlyBad)
                + " must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"")
    }
}

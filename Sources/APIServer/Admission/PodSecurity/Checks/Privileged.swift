import APIMachinery

/// Baseline: no container may run privileged.
struct PrivilegedCheck: PodSecurityCheck {
    var id: String { "privileged" }
    var level: PodSecurityLevel { .baseline }

    func check(_ pod: PodSecurityPod, minor: Int) -> PodSecurityViolation? {
        let bad = pod.containerNames { $0?["privileged"]?.boolValue == true }
        guard !bad.isEmpty else { return nil }
        return PodSecurityViolation(
            reason: "privileged",
            detail: PodSecurityText.containers(bad) + " must not set securityContext.privileged=true")
    }
}

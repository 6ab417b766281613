import APIMachinery

/// Restricted: every container must set `allowPrivilegeEscalation: false` (Windows pods exempt since v1.25).
struct AllowPrivilegeEscalationCheck: PodSecurityCheck {
    var id: String { "allowPrivilegeEscalation" }
    var level: PodSecurityLevel { .restricted }
    var minimumMinor: Int { 8 }

    func check(_ pod: PodSecurityPod, minor: Int) -> PodSecurityViolation? {
        if minor >= 25, pod.isWindows { return nil }
        let bad = pod.containerNames { $0?["allowPrivilegeEscalation"]?.boolValue != false }
        guard !bad.isEmpty else { return nil }
        return PodSecurityViolation(
            reason: "allowPrivilegeEscalation != false",
            detail: PodSecurityText.containers(bad) + " must set securityContext.allowPrivilegeEscalation=false")
    }
}

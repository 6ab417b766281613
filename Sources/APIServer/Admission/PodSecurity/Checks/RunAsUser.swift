import APIMachinery

/// Restricted since v1.23: neither the pod nor a container may set `runAsUser: 0`.
struct RunAsUserCheck: PodSecurityCheck {
    var id: String { "runAsUser" }
    var level: PodSecurityLevel { .restricted }
    var minimumMinor: Int { 23 }

    func check(_ pod: PodSecurityPod, minor: Int) -> PodSecurityViolation? {
        let podSets = pod.securityContext?["runAsUser"]?.intValue == 0
        let bad = pod.containerNames { $0?["runAsUser"]?.intValue == 0 }
        guard podSets || !bad.isEmpty else { return nil }
        return PodSecurityViolation(
            reason: "runAsUser=0",
            detail: PodSecurityText.setters(pod: podSets, containers: bad) + " must not set runAsUser=0")
    }
}

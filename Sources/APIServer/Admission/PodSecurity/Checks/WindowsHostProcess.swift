import APIMachinery

/// Baseline: neither the pod nor a container may run as a Windows host process.
struct WindowsHostProcessCheck: PodSecurityCheck {
    var id: String { "windowsHostProcess" }
    var level: PodSecurityLevel { .baseline }

    func check(_ pod: PodSecurityPod, minor: Int) -> PodSecurityViolation? {
        let isHostProcess: (JSON?) -> Bool = { $0?["windowsOptions"]?["hostProcess"]?.boolValue == true }
        let bad = pod.containerNames(where: isHostProcess)
        let podSets = isHostProcess(pod.securityContext)
        guard podSets || !bad.isEmpty else { return nil }
        return PodSecurityViolation(
            reason: "hostProcess",
            detail: PodSecurityText.setters(pod: podSets, containers: bad)
                + " must not set securityContext.windowsOptions.hostProcess=true")
    }
}

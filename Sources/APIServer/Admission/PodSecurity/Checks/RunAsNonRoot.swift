import APIMachinery

/// Restricted: the pod or every container must set `runAsNonRoot: true`, and none may set it false.
struct RunAsNonRootCheck: PodSecurityCheck {
    var id: String { "runAsNonRoot" }
    var level: PodSecurityLevel { .restricted }

    func check(_ pod: PodSecurityPod, minor: Int) -> PodSecurityViolation? {
        let podValue = pod.securityContext?["runAsNonRoot"]?.boolValue
        let explicitlyBad = pod.containerNames { $0?["runAsNonRoot"]?.boolValue == false }
        let implicitlyBad =
            podValue == true ? [] : pod.containerNames { $0?["runAsNonRoot"]?.boolValue == nil }
        if podValue == false || !explicitlyBad.isEmpty {
            return PodSecurityViolation(
                reason: "runAsNonRoot != true",
                detail: PodSecurityText.setters(pod: podValue == false, containers: explicitlyBad)
                    + " must not set securityContext.runAsNonRoot=false")
        }
        guard !implicitlyBad.isEmpty else { return nil }
        return PodSecurityViolation(
            reason: "runAsNonRoot != true",
            detail: "pod or " + PodSecurityText.containers(implicitlyBad)
                + " must set securityContext.runAsNonRoot=true")
    }
}

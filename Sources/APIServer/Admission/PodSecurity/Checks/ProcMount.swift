import APIMachinery

/// Baseline: containers keep the default masked /proc.
struct ProcMountCheck: PodSecurityCheck {
    var id: String { "procMount" }
    var level: PodSecurityLevel { .baseline }

    func check(_ pod: PodSecurityPod, minor: Int) -> PodSecurityViolation? {
        var bad: [String] = []
        var types: [String] = []
        for container in pod.containers {
            guard let type = container["securityContext"]?["procMount"]?.stringValue, type != "Default" else {
                continue
            }
            bad.append(PodSecurityPod.name(container))
            types.append(type)
        }
        guard !bad.isEmpty else { return nil }
        return PodSecurityViolation(
            reason: "procMount",
            detail: PodSecurityText.containers(bad) + " must not set securityContext.procMount to "
                + PodSecurityText.joinQuote(PodSecurityText.sortedSet(types)))
    }
}

import APIMachinery

/// Baseline: containers may add only the container runtime's default capabilities.
struct CapabilitiesBaselineCheck: PodSecurityCheck {
    var id: String { "capabilities_baseline" }
    var level: PodSecurityLevel { .baseline }
    var replacedAtRestricted: Bool { true }

    static let allowed: Set<String> = [
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP",
        "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    ]

    func check(_ pod: PodSecurityPod, minor: Int) -> PodSecurityViolation? {
        var bad: [String] = []
        var capabilities: [String] = []
        for container in pod.containers {
            let added = container["securityContext"]?["capabilities"]?["add"]?.arrayValue ?? []
            let forbidden = added.compactMap(\.stringValue).filter { !Self.allowed.contains($0) }
            guard !forbidden.isEmpty else { continue }
            bad.append(PodSecurityPod.name(container))
            capabilities += forbidden
        }
        guard !bad.isEmpty else { return nil }
        return PodSecurityViolation(
            reason: "non-default capabilities",
            detail: PodSecurityText.containers(bad) + " must not include "
                + PodSecurityText.joinQuote(PodSecurityText.sortedSet(capabilities))
                + " in securityContext.capabilities.add")
    }
}

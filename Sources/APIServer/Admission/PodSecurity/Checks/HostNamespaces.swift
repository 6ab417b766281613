import APIMachinery

/// Baseline: the pod must not share the host's network, PID or IPC namespace.
struct HostNamespacesCheck: PodSecurityCheck {
    var id: String { "hostNamespaces" }
    var level: PodSecurityLevel { .baseline }

    func check(_ pod: PodSecurityPod, minor: Int) -> PodSecurityViolation? {
        let shared = ["hostIPC", "hostNetwork", "hostPID"].filter { pod.spec[$0]?.boolValue == true }
        guard !shared.isEmpty else { return nil }
        return PodSecurityViolation(reason: "host namespaces", detail: shared.joined(separator: ", "))
    }
}

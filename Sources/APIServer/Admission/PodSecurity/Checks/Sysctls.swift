import APIMachinery

/// Baseline: only namespaced sysctls isolated from other pods, the allowed set growing with the version.
struct SysctlsCheck: PodSecurityCheck {
    var id: String { "sysctls" }
    var level: PodSecurityLevel { .baseline }

    static let allowedSince: [(minor: Int, names: [String])] = [
        (
            0,
            [
                "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
                "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
            ]
        ),
        (27, ["net.ipv4.ip_local_reserved_ports"]),
        (
            29,
            [
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes",
            ]
        ),
    ]

    static func allowed(minor: Int) -> Set<String> {
        Set(allowedSince.filter { $0.minor <= minor }.flatMap(\.names))
    }

    func check(_ pod: PodSecurityPod, minor: Int) -> PodSecurityViolation? {
        let allowed = Self.allowed(minor: minor)
        let names = (pod.securityContext?["sysctls"]?.arrayValue ?? []).map { $0["name"]?.stringValue ?? "" }
        let forbidden = names.filter { !allowed.contains($0) }
        guard !forbidden.isEmpty else { return nil }
        return PodSecurityViolation(reason: "forbidden sysctls", detail: forbidden.joined(separator: ", "))
    }
}

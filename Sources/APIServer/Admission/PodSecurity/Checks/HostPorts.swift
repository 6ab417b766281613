import APIMachinery

/// Baseline: no container port may bind a host port.
struct HostPortsCheck: PodSecurityCheck {
    var id: String { "hostPorts" }
    var level: PodSecurityLevel { .baseline }

    func check(_ pod: PodSecurityPod, minor: Int) -> PodSecurityViolation? {
        var bad: [String] = []
        var ports: [String] = []
        for container in pod.containers {
            let used = (container["ports"]?.arrayValue ?? []).compactMap { $0["hostPort"]?.intValue }.filter {
                $0 != 0
            }
            guard !used.isEmpty else { continue }
            bad.append(PodSecurityPod.name(container))
            ports += used.map(String.init)
        }
        guard !bad.isEmpty else { return nil }
        // Upstream sorts the ports as strings ("80" after "443").
        let sortedPorts = PodSecurityText.sortedSet(ports)
        return PodSecurityViolation(
            reason: "hostPort",
            detail: PodSecurityText.containers(bad) + " " + PodSecurityText.pluralize("uses", "use", bad.count) + " "
                + PodSecurityText.pluralize("hostPort", "hostPorts", sortedPorts.count) + " "
                + sortedPorts.joined(separator: ", "))
    }
}

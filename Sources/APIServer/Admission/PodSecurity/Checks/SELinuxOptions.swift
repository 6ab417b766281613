import APIMachinery

/// Baseline: SELinux types limited to the container types (`container_engine_t` too since v1.31), and no
/// custom user or role.
struct SELinuxOptionsCheck: PodSecurityCheck {
    var id: String { "seLinuxOptions" }
    var level: PodSecurityLevel { .baseline }

    static func allowedTypes(minor: Int) -> Set<String> {
        let types: Set<String> = ["", "container_t", "container_init_t", "container_kvm_t"]
        return minor >= 31 ? types.union(["container_engine_t"]) : types
    }

    func check(_ pod: PodSecurityPod, minor: Int) -> PodSecurityViolation? {
        let allowed = Self.allowedTypes(minor: minor)
        var types: [String] = []
        var setsUser = false
        var setsRole = false
        func valid(_ options: JSON?) -> Bool {
            guard let options, !options.isNull else { return true }
            var valid = true
            let type = options["type"]?.stringValue ?? ""
            if !allowed.contains(type) {
                types.append(type)
                valid = false
            }
            if !(options["user"]?.stringValue ?? "").isEmpty {
                setsUser = true
                valid = false
            }
            if !(options["role"]?.stringValue ?? "").isEmpty {
                setsRole = true
                valid = false
            }
            return valid
        }
        let podSets = !valid(pod.securityContext?["seLinuxOptions"])
        let bad = pod.containerNames { !valid($0?["seLinuxOptions"]) }
        guard podSets || !bad.isEmpty else { return nil }
        var data: [String] = []
        let badTypes = PodSecurityText.sortedSet(types)
        if !badTypes.isEmpty {
            data.append(
                PodSecurityText.pluralize("type", "types", badTypes.count) + " " + PodSecurityText.joinQuote(badTypes))
        }
        if setsUser { data.append("user may not be set") }
        if setsRole { data.append("role may not be set") }
        return PodSecurityViolation(
            reason: "seLinuxOptions",
            detail: PodSecurityText.setters(pod: podSets, containers: bad)
                + " set forbidden securityContext.seLinuxOptions: " + data.joined(separator: "; "))
    }
}

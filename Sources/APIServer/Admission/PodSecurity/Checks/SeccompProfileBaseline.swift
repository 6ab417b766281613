import APIMachinery

/// Baseline: a seccomp profile, where one is set, must not be Unconfined. Before v1.19 the profile lived in
/// annotations, and those are what the check reads at those versions.
struct SeccompProfileBaselineCheck: PodSecurityCheck {
    var id: String { "seccompProfile_baseline" }
    var level: PodSecurityLevel { .baseline }
    var replacedAtRestricted: Bool { true }

    static let podAnnotation = "seccomp.security.alpha.kubernetes.io/pod"
    static let containerAnnotationPrefix = "container.seccomp.security.alpha.kubernetes.io/"

    static func validType(_ type: String) -> Bool { type == "RuntimeDefault" || type == "Localhost" }

    static func validAnnotation(_ value: String) -> Bool {
        value == "runtime/default" || value == "docker/default" || value.hasPrefix("localhost/")
    }

    func check(_ pod: PodSecurityPod, minor: Int) -> PodSecurityViolation? {
        minor < 19 ? checkAnnotations(pod) : checkFields(pod)
    }

    private func checkAnnotations(_ pod: PodSecurityPod) -> PodSecurityViolation? {
        var keys = [Self.podAnnotation]
        keys += pod.containers.map { Self.containerAnnotationPrefix + PodSecurityPod.name($0) }
        let forbidden = keys.compactMap { key in
            pod.annotations[key].flatMap { Self.validAnnotation($0) ? nil : "\(key)=\(GoFormat.quote($0))" }
        }
        guard !forbidden.isEmpty else { return nil }
        let sorted = PodSecurityText.sortedSet(forbidden)
        return PodSecurityViolation(
            reason: "seccompProfile",
            detail: "forbidden " + PodSecurityText.pluralize("annotation", "annotations", sorted.count) + " "
                + sorted.joined(separator: ", "))
    }

    private func checkFields(_ pod: PodSecurityPod) -> PodSecurityViolation? {
        var values: [String] = []
        func bad(_ profile: JSON?) -> Bool {
            guard let profile, !profile.isNull else { return false }
            let type = profile["type"]?.stringValue ?? ""
            if Self.validType(type) { return false }
            values.append(type)
            return true
        }
        let podSets = bad(pod.securityContext?["seccompProfile"])
        let containers = pod.containerNames { bad($0?["seccompProfile"]) }
        guard podSets || !containers.isEmpty else { return nil }
        return PodSecurityViolation(
            reason: "seccompProfile",
            detail: PodSecurityText.setters(pod: podSets, containers: containers)
                + " must not set securityContext.seccompProfile.type to "
                + PodSecurityText.joinQuote(PodSecurityText.sortedSet(values)))
    }
}

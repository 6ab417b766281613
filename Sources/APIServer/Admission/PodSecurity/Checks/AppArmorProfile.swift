import APIMachinery

/// Baseline: AppArmor may be narrowed (RuntimeDefault, Localhost) but never turned off, whether through the
/// `appArmorProfile` fields or the deprecated per-container annotations.
struct AppArmorProfileCheck: PodSecurityCheck {
    var id: String { "appArmorProfile" }
    var level: PodSecurityLevel { .baseline }

    static let annotationPrefix = "container.apparmor.security.beta.kubernetes.io/"

    static func allowedType(_ profile: JSON?) -> Bool {
        guard let profile, !profile.isNull else { return true }
        let type = profile["type"]?.stringValue ?? ""
        return type == "RuntimeDefault" || type == "Localhost"
    }

    static func allowedAnnotation(_ value: String) -> Bool {
        value.isEmpty || value == "runtime/default" || value.hasPrefix("localhost/")
    }

    func check(_ pod: PodSecurityPod, minor: Int) -> PodSecurityViolation? {
        var values: [String] = []
        let podProfile = pod.securityContext?["appArmorProfile"]
        let podSets = !Self.allowedType(podProfile)
        if podSets { values.append(podProfile?["type"]?.stringValue ?? "") }
        var bad: [String] = []
        for container in pod.containers {
            let profile = container["securityContext"]?["appArmorProfile"]
            guard !Self.allowedType(profile) else { continue }
            bad.append(PodSecurityPod.name(container))
            values.append(profile?["type"]?.stringValue ?? "")
        }
        var setters = PodSecurityText.setters(pod: podSets, containers: bad)
        var badValues = PodSecurityText.sortedSet(values)
        let annotations = pod.annotations.filter {
            $0.key.hasPrefix(Self.annotationPrefix) && !Self.allowedAnnotation($0.value)
        }.map { "\($0.key)=\(GoFormat.quote($0.value))" }.sorted()
        if !annotations.isEmpty {
            badValues += annotations
            let who = PodSecurityText.pluralize("annotation", "annotations", annotations.count)
            setters = setters.isEmpty ? who : setters + " and " + who
        }
        guard !setters.isEmpty else { return nil }
        return PodSecurityViolation(
            reason: PodSecurityText.pluralize(
                "forbidden AppArmor profile", "forbidden AppArmor profiles", badValues.count),
            detail: setters + " must not set AppArmor profile type to " + PodSecurityText.joinQuote(badValues))
    }
}

import APIMachinery

/// Restricted: every container drops ALL capabilities and adds back at most NET_BIND_SERVICE (Windows pods
/// exempt since v1.25).
struct CapabilitiesRestrictedCheck: PodSecurityCheck {
    var id: String { "capabilities_restricted" }
    var level: PodSecurityLevel { .restricted }
    var minimumMinor: Int { 22 }

    func check(_ pod: PodSecurityPod, minor: Int) -> PodSecurityViolation? {
        if minor >= 25, pod.isWindows { return nil }
        var missingDropAll: [String] = []
        var adding: [String] = []
        var forbidden: [String] = []
        for container in pod.containers {
            let name = PodSecurityPod.name(container)
            guard let capabilities = container["securityContext"]?["capabilities"], !capabilities.isNull else {
                missingDropAll.append(name)
                continue
            }
            let dropped = (capabilities["drop"]?.arrayValue ?? []).compactMap(\.stringValue)
            if !dropped.contains("ALL") { missingDropAll.append(name) }
            let added = (capabilities["add"]?.arrayValue ?? []).compactMap(\.stringValue).filter {
                $0 != "NET_BIND_SERVICE"
            }
            if !added.isEmpty {
                adding.append(name)
                forbidden += added
            }
        }
        var details: [String] = []
        if !missingDropAll.isEmpty {
            details.append(
                PodSecurityText.containers(missingDropAll) + " must set securityContext.capabilities.drop=[\"ALL\"]")
        }
        if !adding.isEmpty {
            details.append(
                PodSecurityText.containers(adding) + " must not include "
                    + PodSecurityText.joinQuote(PodSecurityText.sortedSet(forbidden))
                    + " in securityContext.capabilities.add")
        }
        guard !details.isEmpty else { return nil }
        return PodSecurityViolation(reason: "unrestricted capabilities", detail: details.joined(separator: "; "))
    }
}

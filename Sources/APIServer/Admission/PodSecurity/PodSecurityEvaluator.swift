import APIMachinery

/// Every check of the Pod Security Standards, and a pod's evaluation against a level and version: upstream's
/// check registry. Results come in upstream's order: the baseline checks, then (at baseline) those a
/// restricted check replaces, or (at restricted) the restricted checks, each group by check ID.
enum PodSecurityEvaluator {
    /// Upstream's checks in its registration order (its files' names).
    static let checks: [any PodSecurityCheck] = [
        AllowPrivilegeEscalationCheck(), AppArmorProfileCheck(), CapabilitiesBaselineCheck(),
        CapabilitiesRestrictedCheck(), HostNamespacesCheck(), HostPathVolumesCheck(), HostPortsCheck(),
        PrivilegedCheck(), ProcMountCheck(), RestrictedVolumesCheck(), RunAsNonRootCheck(), RunAsUserCheck(),
        SELinuxOptionsCheck(), SeccompProfileBaselineCheck(), SeccompProfileRestrictedCheck(), SysctlsCheck(),
        WindowsHostProcessCheck(),
    ]

    /// The checks that run at `level`, in the order their violations are reported.
    static func checks(for level: PodSecurityLevel) -> [any PodSecurityCheck] {
        let baseline = checks.filter { $0.level == .baseline && !$0.replacedAtRestricted }
        switch level {
        case .privileged: return []
        case .baseline: return baseline + checks.filter { $0.level == .baseline && $0.replacedAtRestricted }
        case .restricted: return baseline + checks.filter { $0.level == .restricted }
        }
    }

    /// Every violation of `policy` by `pod`, in upstream's order; empty when the pod is allowed.
    static func evaluate(_ pod: PodSecurityPod, against policy: PodSecurityLevelVersion) -> PodSecurityResult {
        let minor = policy.version.minor
        let violations = checks(for: policy.level).compactMap { check in
            minor >= check.minimumMinor ? check.check(pod, minor: minor) : nil
        }
        return PodSecurityResult(violations: violations)
    }
}

/// The violations of one evaluation, rendered as upstream renders them.
struct PodSecurityResult: Sendable, Hashable {
    var violations: [PodSecurityViolation]

    var allowed: Bool { violations.isEmpty }

    /// `host ports, privileged`: the reasons alone, as the namespace warnings list them.
    var forbiddenReason: String { violations.map(\.reason).joined(separator: ", ") }

    /// `hostPort (container "a" uses hostPort 80), privileged (…)`: each reason with its detail.
    var forbiddenDetail: String {
        violations.map { $0.detail.isEmpty ? $0.reason : "\($0.reason) (\($0.detail))" }.joined(separator: ", ")
    }
}

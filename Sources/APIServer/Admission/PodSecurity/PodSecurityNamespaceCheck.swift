import APIMachinery
import Storage

/// What happens when a namespace's `enforce` level is made stricter: upstream tries the new level against the
/// pods already there and warns about those that would be refused, one warning per distinct set of reasons
/// (`web-1 (and 2 other pods): hostPort, privileged`), checking at most 3000 pods for at most a second.
struct PodSecurityNamespaceCheck: Sendable {
    /// The bounds upstream puts on the dry run.
    struct Limits: Sendable {
        var maxPods: Int
        var timeout: Duration
        /// The clock the timeout is measured on; tests step it.
        var now: @Sendable () -> ContinuousClock.Instant

        /// Upstream's: 3000 pods, one second.
        static let upstream = Limits(maxPods: 3000, timeout: .seconds(1), now: { ContinuousClock.now })
    }

    var limits: Limits

    /// The warnings for `pods` (in listing order) against `enforce` in `namespace`, in upstream's order and words.
    func warnings(
        namespace: String, pods: [JSON], enforce: PodSecurityLevelVersion, exemptRuntimeClasses: Set<String>
    ) -> [String] {
        let deadline = limits.now() + limits.timeout
        var reasons: [String] = []
        var byReason: [String: (firstName: String, count: Int)] = [:]
        var checked = 0
        for pod in pods.prefix(limits.maxPods) {
            checked += 1
            let runtimeClass = pod["spec"]?["runtimeClassName"]?.stringValue ?? ""
            if runtimeClass.isEmpty || !exemptRuntimeClasses.contains(runtimeClass) {
                let result = PodSecurityEvaluator.evaluate(PodSecurityPod(pod: pod), against: enforce)
                if !result.allowed {
                    let reason = result.forbiddenReason
                    let name = pod.name ?? ""
                    if var seen = byReason[reason] {
                        seen.count += 1
                        if name < seen.firstName { seen.firstName = name }
                        byReason[reason] = seen
                    } else {
                        reasons.append(reason)
                        byReason[reason] = (name, 1)
                    }
                }
            }
            if limits.now() >= deadline { break }
        }
        var warnings: [String] = []
        if checked < pods.count {
            warnings.append(
                "new PodSecurity enforce level only checked against the first \(checked) of \(pods.count) existing pods"
            )
        }
        if !reasons.isEmpty {
            warnings.append(
                "existing pods in namespace \(GoFormat.quote(namespace)) violate the new PodSecurity enforce level "
                    + GoFormat.quote(enforce.description))
        }
        let decorated = reasons.map { reason -> String in
            let (name, count) = byReason[reason] ?? ("", 0)
            switch count {
            case 1: return "\(name): \(reason)"
            case 2: return "\(name) (and 1 other pod): \(reason)"
            default: return "\(name) (and \(count - 1) other pods): \(reason)"
            }
        }
        return warnings + decorated.sorted()
    }
}

extension PodSecurityAdmission {
    /// Upstream's `ValidateNamespace`: labels must parse on create, and on an update that changes them; a
    /// stricter enforce level (a new version, or a stricter level at the same version) is tried against the
    /// namespace's pods.
    func validateNamespace(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        let (policy, errors) = PodSecurityPolicy.resolve(labels: object.labels, defaults: configuration.defaults)
        let kind = GroupVersionKind(group: "", version: "v1", kind: "Namespace")
        let name = object.name ?? attributes.name
        guard attributes.operation == .update, let old = attributes.oldObject else {
            if !errors.isEmpty { throw APIError.invalid(kind: kind, name: name, errors: errors) }
            return
        }
        let (oldPolicy, oldErrors) = PodSecurityPolicy.resolve(labels: old.labels, defaults: configuration.defaults)
        if !errors.isEmpty, oldErrors.isEmpty || Self.aggregate(errors) != Self.aggregate(oldErrors) {
            throw APIError.invalid(kind: kind, name: name, errors: errors)
        }
        if policy.enforce == oldPolicy.enforce || policy.enforce.level == .privileged { return }
        if policy.enforce.version == oldPolicy.enforce.version, policy.enforce.level <= oldPolicy.enforce.level {
            return
        }
        if configuration.exemptNamespaces.contains(name) { return }
        let warnings: [String]
        do {
            let pods = try await Self.pods(in: name, context: context)
            warnings = PodSecurityNamespaceCheck(limits: podCheckLimits).warnings(
                namespace: name, pods: pods, enforce: policy.enforce,
                exemptRuntimeClasses: configuration.exemptRuntimeClasses)
        } catch {
            warnings = ["failed to list pods while checking new PodSecurity enforce level"]
        }
        AdmissionWarnings.current?.add(warnings)
    }

    /// The namespace's pods, in storage's (name) order.
    static func pods(in namespace: String, context: RegistryContext) async throws -> [JSON] {
        let prefix = context.storagePrefix + "/pods/" + namespace + "/"
        let result = try await context.storage.range(
            start: prefix, end: RegistryStore.prefixEnd(prefix), limit: 0, revision: nil)
        return result.items.compactMap { try? JSON.parse($0.value) }
    }
}

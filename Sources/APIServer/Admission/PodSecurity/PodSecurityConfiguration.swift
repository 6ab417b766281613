import APIMachinery

/// What upstream's `PodSecurityConfiguration` (`pod-security.admission.config.k8s.io/v1`) sets: the levels a
/// namespace without labels gets, and the requests never evaluated. The default is upstream's: privileged
/// for every mode and no exemptions.
struct PodSecurityConfiguration: Sendable, Hashable {
    var defaults: PodSecurityPolicy
    /// Requests by these users are not evaluated.
    var exemptUsernames: Set<String>
    /// Pods (and templates) naming one of these runtime classes are not evaluated.
    var exemptRuntimeClasses: Set<String>
    /// Nothing in these namespaces is evaluated, nor are their label changes checked against their pods.
    var exemptNamespaces: Set<String>

    init(
        defaults: PodSecurityPolicy = .privileged, exemptUsernames: Set<String> = [],
        exemptRuntimeClasses: Set<String> = [], exemptNamespaces: Set<String> = []
    ) {
        self.defaults = defaults
        self.exemptUsernames = exemptUsernames
        self.exemptRuntimeClasses = exemptRuntimeClasses
        self.exemptNamespaces = exemptNamespaces
    }
}

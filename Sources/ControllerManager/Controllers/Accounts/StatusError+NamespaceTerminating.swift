import APIMachinery
import Client

extension StatusError {
    /// Whether the server refused a create because the namespace is being deleted (upstream's
    /// `NamespaceTerminatingCause`); controllers drop such a create instead of retrying it.
    var isNamespaceTerminatingRefusal: Bool {
        guard code == 403 else { return false }
        let causes = details?["causes"]?.arrayValue ?? []
        return causes.contains { $0["reason"]?.stringValue == "NamespaceTerminating" }
    }
}

import APIMachinery
import Authorization

/// RBAC privilege-escalation prevention on every create and update of roles, clusterroles, rolebindings and
/// clusterrolebindings (upstream's policy-based RBAC storage). It is not an `--enable-admission-plugins`
/// plugin: the server always runs it, first, so a refused write is Forbidden before it is validated, as
/// upstream refuses before its registry runs.
struct RBACEscalation: AdmissionPlugin {
    let name = "RBACEscalationPrevention"
    let authorization: ServerAuthorization

    func admit(_ attributes: AdmissionAttributes, object: inout JSON, context: RegistryContext) async throws {
        guard attributes.resource.group == APIServer.rbacGroup, attributes.subresource.isEmpty,
            attributes.operation != .delete, !EscalationCheck.escalationAllowed(attributes.user)
        else { return }
        if let old = attributes.oldObject, Self.onlyGarbageCollectionFieldsDiffer(object, old) { return }
        let check = authorization.escalation
        let namespace = attributes.namespace ?? ""
        let refusal: APIError?
        switch attributes.resource.resource {
        case "roles":
            var role = Role(json: object)
            role.namespace = namespace
            refusal = check.checkRole(user: attributes.user, namespace: namespace, role: role)
        case "clusterroles":
            refusal = check.checkClusterRole(
                user: attributes.user, role: Role(json: object), old: attributes.oldObject.map(Role.init(json:)))
        case "rolebindings", "clusterrolebindings":
            var binding = RoleBinding(json: object)
            binding.namespace = namespace
            refusal = check.checkBinding(user: attributes.user, binding: binding)
        default:
            refusal = nil
        }
        if let refusal { throw refusal }
    }

    /// Upstream lets an update through unchecked when it only touches what the garbage collector changes
    /// (owner references and finalizers), so a role can always be deleted in the background.
    static func onlyGarbageCollectionFieldsDiffer(_ object: JSON, _ old: JSON) -> Bool {
        func stripped(_ value: JSON) -> JSON {
            var copy = value
            for field in ["ownerReferences", "finalizers", "managedFields", "selfLink", "resourceVersion"] {
                copy.setMeta(field, nil)
            }
            return copy
        }
        return stripped(object) == stripped(old)
    }
}

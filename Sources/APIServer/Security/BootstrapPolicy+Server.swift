import APIMachinery
import Authorization
import Logging

/// Writes the bootstrap RBAC policy at start-up, as upstream's `rbac/bootstrap-roles` post-start hook does;
/// the aggregated roles' rules are the controller-manager's clusterrole-aggregation controller's to fill. The
/// server writes as itself (no user), which escalation checks let through.
extension APIServer {
    static let rbacGroup = "rbac.authorization.k8s.io"

    private func rbacStore(_ resource: String) throws -> RegistryStore {
        guard let store = store(group: Self.rbacGroup, version: "v1", resource: resource) else {
            throw APIError.internalError("\(resource).\(Self.rbacGroup) is not served")
        }
        return store
    }

    /// Creates missing bootstrap roles and bindings and adds missing rules, selectors, subjects, labels and
    /// annotations to those still marked `autoupdate: "true"`.
    func reconcileBootstrapPolicy() async throws {
        let logger = Logger(label: "kube-apiserver.rbac")
        for (resource, objects) in [
            ("clusterroles", BootstrapPolicy.clusterRoles), ("roles", BootstrapPolicy.roles),
        ] {
            let store = try rbacStore(resource)
            for expected in objects {
                let namespace = expected.namespace
                let name = expected.name ?? ""
                guard let existing = try await existingObject(store, namespace: namespace, name: name) else {
                    _ = try await createIgnoringRace(store, namespace: namespace, object: expected)
                    logger.info("created \(resource).\(Self.rbacGroup)/\(name)")
                    continue
                }
                guard Reconciliation.reconcileRole(existing: existing, expected: expected) != nil else { continue }
                _ = try await store.update(namespace: namespace, name: name, options: WriteOptions()) { current in
                    Reconciliation.reconcileRole(existing: current, expected: expected) ?? current
                }
                logger.info("reconciled \(resource).\(Self.rbacGroup)/\(name)")
            }
        }
        for (resource, objects) in [
            ("clusterrolebindings", BootstrapPolicy.clusterRoleBindings),
            ("rolebindings", BootstrapPolicy.roleBindings),
        ] {
            let store = try rbacStore(resource)
            for expected in objects {
                let namespace = expected.namespace
                let name = expected.name ?? ""
                guard let existing = try await existingObject(store, namespace: namespace, name: name) else {
                    _ = try await createIgnoringRace(store, namespace: namespace, object: expected)
                    logger.info("created \(resource).\(Self.rbacGroup)/\(name)")
                    continue
                }
                switch Reconciliation.reconcileBinding(existing: existing, expected: expected) {
                case .none: continue
                case .update:
                    _ = try await store.update(namespace: namespace, name: name, options: WriteOptions()) { current in
                        guard
                            case .update(let updated) = Reconciliation.reconcileBinding(
                                existing: current, expected: expected)
                        else { return current }
                        return updated
                    }
                case .recreate(let replacement):
                    _ = try await store.delete(
                        namespace: namespace, name: name, options: DeleteOptions(),
                        write: WriteOptions())
                    _ = try await createIgnoringRace(store, namespace: namespace, object: replacement)
                }
                logger.info("reconciled \(resource).\(Self.rbacGroup)/\(name)")
            }
        }
    }

    private func existingObject(_ store: RegistryStore, namespace: String?, name: String) async throws -> JSON? {
        do {
            return try await store.get(namespace: namespace, name: name)
        } catch let error as APIError where error.code == 404 {
            return nil
        }
    }

    /// Another API server starting at the same time may create the object first; that is as good.
    private func createIgnoringRace(_ store: RegistryStore, namespace: String?, object: JSON) async throws -> JSON? {
        do {
            return try await store.create(namespace: namespace, object: object, options: WriteOptions())
        } catch let error as APIError where error.reason == .alreadyExists {
            return nil
        }
    }
}

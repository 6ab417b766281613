import APIMachinery
import Authorization
import Client
import Logging

/// Upstream's clusterrole-aggregation controller: a ClusterRole with an `aggregationRule` holds the rules of
/// every ClusterRole its selectors match (in role-name order, without repeats; the bootstrap `admin`, `edit`
/// and `view` are built this way), rewritten whenever any ClusterRole changes.
final class ClusterRoleAggregationController: Controller {
    static let descriptor = ControllerDescriptor(
        name: "clusterrole-aggregation-controller", aliases: ["clusterrole-aggregation"],
        serviceAccount: "clusterrole-aggregation-controller"
    ) { context in ClusterRoleAggregationController(context: context) }

    let context: ControllerContext
    let queue: RateLimitingQueue<String>
    let roles: Lister<ClusterRoleObject>

    init(context: ControllerContext) {
        self.context = context
        queue = RateLimitingQueue(name: "ClusterRoleAggregator", time: context.time)
        let informer = context.informers.informer(for: ClusterRoleObject.self)
        roles = informer.lister
        // Any role's change may change what some aggregated role selects, so every aggregated role is
        // looked at again, as upstream's `enqueue` does.
        informer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] _, _ in enqueueAggregated() },
                onUpdate: { [self] _, _ in enqueueAggregated() },
                onDelete: { [self] _ in enqueueAggregated() }))
    }

    func run(workers: Int) async {
        await queue.runWorkers(workers, logger: context.logger) { name in try await self.sync(name) }
    }

    private func enqueueAggregated() {
        for role in roles.list() where role.fields["aggregationRule"] != nil { queue.add(role.metadata.name ?? "") }
    }

    /// Writes the rules the role's selectors give it, unless it holds them already. A conflict is thrown, so
    /// the queue retries on a fresher cache.
    func sync(_ name: String) async throws {
        guard var stored = roles.get(name: name) else { return }
        let snapshot = RBACSnapshot(clusterRoles: roles.list().map { Role(json: $0.toJSON()) })
        guard let role = snapshot.clusterRoles[name], let rules = snapshot.aggregatedRules(for: role),
            rules != role.rules
        else { return }
        stored.rules = rules.map(\.json)
        do {
            _ = try await ResourceClient<ClusterRoleObject>(client: context.client).update(stored)
        } catch let error as StatusError where error.code == 404 {
            // Deleted meanwhile: nothing to aggregate into.
        }
    }
}

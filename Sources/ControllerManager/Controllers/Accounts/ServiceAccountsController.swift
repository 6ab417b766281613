import Client
import Logging

/// Upstream's serviceaccount controller: every active namespace has a `default` ServiceAccount, created
/// again when it is deleted.
final class ServiceAccountsController: Controller {
    static let descriptor = ControllerDescriptor(
        name: "serviceaccount-controller", aliases: ["serviceaccount"], serviceAccount: "service-account-controller"
    ) { context in ServiceAccountsController(context: context) }

    /// The accounts every namespace gets (upstream's `DefaultServiceAccountsControllerOptions`).
    static let accountsToEnsure = ["default"]

    let context: ControllerContext
    let queue: RateLimitingQueue<String>
    let namespaces: Lister<Namespace>
    let accounts: Lister<ServiceAccount>

    init(context: ControllerContext) {
        self.context = context
        queue = RateLimitingQueue(name: "serviceaccount", time: context.time)
        let namespaceInformer = context.informers.informer(for: Namespace.self)
        let accountInformer = context.informers.informer(for: ServiceAccount.self)
        namespaces = namespaceInformer.lister
        accounts = accountInformer.lister
        let queue = self.queue
        namespaceInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { namespace, _ in queue.add(namespace.metadata.name ?? "") },
                onUpdate: { _, namespace in queue.add(namespace.metadata.name ?? "") }))
        accountInformer.addEventHandler(
            ResourceEventHandler(onDelete: { event in
                guard Self.accountsToEnsure.contains(event.key.name) else { return }
                queue.add(event.key.namespace)
            }))
    }

    func run(workers: Int) async {
        await queue.runWorkers(workers, logger: context.logger) { name in try await self.sync(name) }
    }

    /// Creates the namespace's missing accounts; a namespace that is not active gets nothing.
    func sync(_ name: String) async throws {
        guard let namespace = namespaces.get(name: name), namespace.status.phase == "Active" else { return }
        let client = ResourceClient<ServiceAccount>(client: context.client, namespace: name)
        var failures: [any Error] = []
        for account in Self.accountsToEnsure where accounts.get(namespace: name, name: account) == nil {
            var created = ServiceAccount()
            created.metadata.name = account
            created.metadata.namespace = name
            do {
                _ = try await client.create(created)
            } catch let error as StatusError where error.code == 409 || error.isNamespaceTerminatingRefusal {
                // Someone else created it, or the namespace is going away.
            } catch {
                failures.append(error)
            }
        }
        if let failure = failures.first { throw failure }
    }
}

import APIMachinery
import Client
import Foundation

/// Upstream's `tokencleaner`: deletes bootstrap-token Secrets in kube-system once their `expiration` has passed,
/// looking again at each token when it is due. Off by default, as upstream.
final class TokenCleanerController: Controller {
    static let descriptor = ControllerDescriptor(
        name: "token-cleaner-controller", aliases: ["tokencleaner"], enabledByDefault: false,
        serviceAccount: "token-cleaner"
    ) { context in TokenCleanerController(context: context) }

    let context: ControllerContext
    let queue: RateLimitingQueue<ObjectKey>
    let secrets: Lister<Secret>

    init(context: ControllerContext) {
        self.context = context
        queue = RateLimitingQueue(name: "token_cleaner", time: context.time)
        let informer = context.informers.informer(for: Secret.self)
        secrets = informer.lister
        let queue = self.queue
        let enqueue: @Sendable (Secret) -> Void = { secret in
            if secret.metadata.namespace == BootstrapTokenSecret.namespace,
                BootstrapTokenSecret(secret).isBootstrapToken
            {
                queue.add(secret.key)
            }
        }
        informer.addEventHandler(
            ResourceEventHandler(onAdd: { secret, _ in enqueue(secret) }, onUpdate: { _, secret in enqueue(secret) }))
    }

    func run(workers: Int) async {
        await queue.runWorkers(1, logger: context.logger) { key in try await self.sync(key) }
    }

    /// Deletes the token if it has expired (only that very Secret, by uid), else looks again when it expires.
    func sync(_ key: ObjectKey) async throws {
        guard let secret = secrets.get(namespace: key.namespace, name: key.name) else { return }
        let token = BootstrapTokenSecret(secret)
        guard token.isBootstrapToken else { return }
        let (remaining, expired) = token.expiration(now: context.time.wallNow)
        guard expired else {
            if let remaining { queue.add(key, after: .milliseconds(Int64((remaining * 1000).rounded(.up)))) }
            return
        }
        context.logger.info("Deleting expired secret \(key)")
        var options = DeleteOptions()
        if let uid = secret.metadata.uid, !uid.isEmpty { options.preconditions = Preconditions(uid: uid) }
        do {
            try await ResourceClient<Secret>(client: context.client, namespace: key.namespace)
                .delete(key.name, options: options)
        } catch let error as StatusError where error.code == 404 || error.code == 409 {
            // Already gone, or replaced by a Secret of the same name (the uid precondition failed).
        }
    }
}

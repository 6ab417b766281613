import Client
import Component
import Logging

/// Upstream's serviceaccount-token controller for legacy tokens: fills every Secret of type
/// `kubernetes.io/service-account-token` that names a service account with a signed `token`, `ca.crt` and
/// `namespace`, deletes such Secrets once their service account is gone, and drops a deleted Secret from
/// its account's `secrets`. Like upstream it acts with the manager's own credentials, never a service
/// account's (it mints the credentials those accounts use).
final class TokensController: Controller {
    static let descriptor = ControllerDescriptor(
        name: "serviceaccount-token-controller", aliases: ["serviceaccount-token"], serviceAccount: "",
        flags: [
            FlagDefinition("service-account-private-key-file"), FlagDefinition("root-ca-file"),
            FlagDefinition("concurrent-serviceaccount-token-syncs", default: "5"),
        ],
        workersFlag: "concurrent-serviceaccount-token-syncs"
    ) { context in
        let keyFile = context.flags.string("service-account-private-key-file")
        guard !keyFile.isEmpty else {
            context.logger.info("serviceaccount-token-controller is disabled because there is no private key")
            return nil
        }
        return TokensController(
            context: context, signer: try LegacyTokenSigner.load(path: keyFile), rootCA: try RootCA.load(context))
    }

    static let tokenType = "kubernetes.io/service-account-token"
    static let accountNameAnnotation = "kubernetes.io/service-account.name"
    static let accountUIDAnnotation = "kubernetes.io/service-account.uid"

    /// A service account to check, by identity: a namesake created later is another account.
    struct AccountKey: Hashable, Sendable {
        var namespace: String
        var name: String
        var uid: String
    }

    /// A token Secret to check, with the account it named when it was queued.
    struct SecretKey: Hashable, Sendable {
        var namespace: String
        var name: String
        var uid: String
        var account: String
        var accountUID: String
    }

    let context: ControllerContext
    let signer: LegacyTokenSigner
    let rootCA: String
    let accountQueue: RateLimitingQueue<AccountKey>
    let secretQueue: RateLimitingQueue<SecretKey>
    let accounts: Lister<ServiceAccount>
    let secrets: Lister<Secret>

    init(context: ControllerContext, signer: LegacyTokenSigner, rootCA: String) {
        self.context = context
        self.signer = signer
        self.rootCA = rootCA
        accountQueue = RateLimitingQueue(name: "serviceaccount_tokens_service", time: context.time)
        secretQueue = RateLimitingQueue(name: "serviceaccount_tokens_secret", time: context.time)
        let accountInformer = context.informers.informer(for: ServiceAccount.self)
        let secretInformer = context.informers.informer(for: Secret.self)
        accounts = accountInformer.lister
        secrets = secretInformer.lister
        let accountQueue = self.accountQueue
        let secretQueue = self.secretQueue
        accountInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { account, _ in accountQueue.add(Self.accountKey(account)) },
                onUpdate: { _, account in accountQueue.add(Self.accountKey(account)) },
                onDelete: { event in accountQueue.add(Self.accountKey(event.object)) }))
        secretInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { secret, _ in if let key = Self.secretKey(secret) { secretQueue.add(key) } },
                onUpdate: { _, secret in if let key = Self.secretKey(secret) { secretQueue.add(key) } },
                onDelete: { event in if let key = Self.secretKey(event.object) { secretQueue.add(key) } }))
    }

    static func accountKey(_ account: ServiceAccount) -> AccountKey {
        AccountKey(
            namespace: account.metadata.namespace ?? "", name: account.metadata.name ?? "",
            uid: account.metadata.uid ?? "")
    }

    /// The queue key of a token Secret; nil for other Secrets.
    static func secretKey(_ secret: Secret) -> SecretKey? {
        guard secret.type == tokenType else { return nil }
        return SecretKey(
            namespace: secret.metadata.namespace ?? "", name: secret.metadata.name ?? "",
            uid: secret.metadata.uid ?? "", account: secret.metadata.annotations[accountNameAnnotation] ?? "",
            accountUID: secret.metadata.annotations[accountUIDAnnotation] ?? "")
    }

    func run(workers: Int) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await self.accountQueue.runWorkers(workers, logger: self.context.logger) { key in
                    try await self.syncAccount(key)
                }
            }
            group.addTask {
                await self.secretQueue.runWorkers(workers, logger: self.context.logger) { key in
                    try await self.syncSecret(key)
                }
            }
        }
    }
}

import APIMachinery
import Client
import Foundation

/// Upstream's `bootstrapsigner`: keeps the `cluster-info` ConfigMap in kube-public signed with every bootstrap
/// token usable for signing, one `jws-kubeconfig-<token-id>` key per token holding the detached JWS of its
/// `kubeconfig`, so a joining node holding a token can trust the cluster's CA before it trusts anything else.
/// Off by default, as upstream.
final class BootstrapSignerController: Controller {
    static let descriptor = ControllerDescriptor(
        name: "bootstrap-signer-controller", aliases: ["bootstrapsigner"], enabledByDefault: false,
        serviceAccount: "bootstrap-signer"
    ) { context in BootstrapSignerController(context: context) }

    static let configMapNamespace = "kube-public"
    static let configMapName = "cluster-info"
    static let kubeconfigKey = "kubeconfig"
    static let signaturePrefix = "jws-kubeconfig-"
    /// The one key of the queue: every change re-signs the whole ConfigMap.
    static let key = ObjectKey(namespace: configMapNamespace, name: configMapName)

    let context: ControllerContext
    let queue: RateLimitingQueue<ObjectKey>
    let configMaps: Lister<ConfigMap>
    let secrets: Lister<Secret>

    init(context: ControllerContext) {
        self.context = context
        queue = RateLimitingQueue(name: "bootstrap_signer_queue", time: context.time)
        let configMapInformer = context.informers.informer(for: ConfigMap.self)
        let secretInformer = context.informers.informer(for: Secret.self)
        configMaps = configMapInformer.lister
        secrets = secretInformer.lister
        let queue = self.queue
        let poke: @Sendable (ObjectKey) -> Void = { key in if key == Self.key { queue.add(Self.key) } }
        configMapInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { configMap, _ in poke(configMap.key) },
                onUpdate: { _, configMap in poke(configMap.key) }))
        let pokeForToken: @Sendable (Secret) -> Void = { secret in
            if secret.metadata.namespace == BootstrapTokenSecret.namespace,
                BootstrapTokenSecret(secret).isBootstrapToken
            {
                queue.add(Self.key)
            }
        }
        secretInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { secret, _ in pokeForToken(secret) },
                onUpdate: { _, secret in pokeForToken(secret) },
                onDelete: { event in pokeForToken(event.object) }))
    }

    func run(workers: Int) async {
        queue.add(Self.key)
        await queue.runWorkers(1, logger: context.logger) { _ in try await self.sync() }
    }

    /// Re-signs `cluster-info` when a signature is missing, stale or belongs to a token that is gone.
    func sync() async throws {
        guard let configMap = configMaps.get(namespace: Self.configMapNamespace, name: Self.configMapName) else {
            return
        }
        guard let signed = Self.signed(configMap, tokens: signingTokens()) else { return }
        do {
            _ = try await ResourceClient<ConfigMap>(client: context.client, namespace: Self.configMapNamespace)
                .update(signed)
        } catch let error as StatusError where error.code == 404 || error.code == 409 {
            // Gone, or changed since it was read: the informer's next event brings it back here.
        }
    }

    /// Every token id with its secret that may sign now.
    func signingTokens() -> [String: String] {
        var tokens: [String: String] = [:]
        let now = context.time.wallNow
        for secret in secrets.list(namespace: BootstrapTokenSecret.namespace) {
            if let token = BootstrapTokenSecret(secret).signingToken(now: now) { tokens[token.id] = token.secret }
        }
        return tokens
    }

    /// `configMap` with exactly one signature per token, or nil when it needs no update (or has no kubeconfig).
    static func signed(_ configMap: ConfigMap, tokens: [String: String]) -> ConfigMap? {
        guard let content = configMap.data[kubeconfigKey] else { return nil }
        var updated = configMap
        var old: [String: String] = [:]
        for (key, value) in configMap.data where key.hasPrefix(signaturePrefix) {
            old[String(key.dropFirst(signaturePrefix.count))] = value
            updated.data[key] = nil
        }
        var changed = false
        for (id, secret) in tokens {
            let signature = DetachedJWS.sign(content: content, tokenID: id, tokenSecret: secret)
            if old.removeValue(forKey: id) != signature { changed = true }
            updated.data[signaturePrefix + id] = signature
        }
        return changed || !old.isEmpty ? updated : nil
    }
}

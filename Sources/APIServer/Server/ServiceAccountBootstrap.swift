import APIMachinery
import Component
import Foundation
import Logging
import Operations
import Storage

extension APIServer {
    /// The name and description upstream's root-ca-cert-publisher gives its ConfigMap.
    static let rootCAConfigMap = "kube-root-ca.crt"
    static let rootCADescription =
        "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."

    /// Gives every active namespace a `default` ServiceAccount and a `kube-root-ca.crt` ConfigMap holding
    /// `rootCA`, as upstream's serviceaccounts and root-ca-cert-publisher controllers do; the API server does
    /// it until a controller-manager exists, because the ServiceAccount admission plugin refuses pods
    /// without their account. Call once at start-up, before serving.
    public func ensureServiceAccounts(rootCA: String) async {
        guard let namespaces = store(resource: "namespaces"),
            let page = try? await namespaces.list(namespace: nil, options: ListOptions())
        else { return }
        for namespace in page.items where namespace["status"]?["phase"]?.stringValue != "Terminating" {
            if let name = namespace.name { await ensureNamespaceCredentials(name, rootCA: rootCA) }
        }
    }

    /// Keeps `ensureServiceAccounts` true until cancelled: new namespaces get both objects, and a deleted
    /// or altered one comes back, as the controllers re-create theirs.
    public func runServiceAccountBootstrap(rootCA: String) async {
        let root = context.storagePrefix
        let namespacesPrefix = root + "/namespaces/"
        let accountsPrefix = root + "/serviceaccounts/"
        let configMapsPrefix = root + "/configmaps/"
        let revision = (try? await storage.currentRevision()) ?? 0
        await withTaskGroup(of: Void.self) { group in
            for prefix in [namespacesPrefix, accountsPrefix, configMapsPrefix] {
                group.addTask {
                    await self.follow(prefix: prefix, after: revision, rootCA: rootCA) { event in
                        Self.credentialsNamespace(
                            event, namespaces: namespacesPrefix, accounts: accountsPrefix, configMaps: configMapsPrefix)
                    }
                }
            }
        }
    }

    /// Watches one folder and ensures the credentials of each namespace `affected` names.
    private func follow(
        prefix: String, after start: Revision, rootCA: String, affected: @Sendable (WatchEvent) -> String?
    ) async {
        var revision = start
        while !Task.isCancelled {
            do {
                for try await event in storage.watch(
                    start: prefix, end: RegistryStore.prefixEnd(prefix), afterRevision: revision)
                {
                    revision = event.revision
                    if let namespace = affected(event) { await ensureNamespaceCredentials(namespace, rootCA: rootCA) }
                }
            } catch StorageError.compacted {
                revision = (try? await storage.currentRevision()) ?? revision
                await ensureServiceAccounts(rootCA: rootCA)
            } catch {
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// The namespace a storage event says needs its credentials checked, if any.
    static func credentialsNamespace(
        _ event: WatchEvent, namespaces: String, accounts: String, configMaps: String
    ) -> String? {
        let key = event.current.key
        if key.hasPrefix(namespaces) {
            guard event.kind == .put, let object = try? JSON.parse(event.current.value),
                object["status"]?["phase"]?.stringValue != "Terminating"
            else { return nil }
            return String(key.dropFirst(namespaces.count))
        }
        if key.hasPrefix(accounts), event.kind == .delete,
            let (namespace, name) = NamespacedObjectCache.split(key, prefix: accounts),
            name == ServiceAccountAdmission.defaultName
        {
            return namespace
        }
        if key.hasPrefix(configMaps), let (namespace, name) = NamespacedObjectCache.split(key, prefix: configMaps),
            name == rootCAConfigMap
        {
            return namespace
        }
        return nil
    }

    /// Creates what is missing and puts the CA back where it was changed. Failures (the namespace started
    /// terminating, a concurrent writer) are left to the next event, as a controller retries.
    func ensureNamespaceCredentials(_ namespace: String, rootCA: String) async {
        guard let accounts = store(resource: "serviceaccounts"), let configMaps = store(resource: "configmaps")
        else { return }
        let accountKey = accounts.key(namespace: namespace, name: ServiceAccountAdmission.defaultName)
        if (try? await storage.get(key: accountKey)) == .some(nil) {
            let account: JSON = [
                "apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": ["name": .string(ServiceAccountAdmission.defaultName), "namespace": .string(namespace)],
            ]
            _ = try? await accounts.create(namespace: namespace, object: account, options: WriteOptions())
        }
        let data: JSON = ["ca.crt": .string(rootCA)]
        guard let stored = try? await configMaps.get(namespace: namespace, name: Self.rootCAConfigMap) else {
            let configMap: JSON = [
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": [
                    "name": .string(Self.rootCAConfigMap), "namespace": .string(namespace),
                    "annotations": ["kubernetes.io/description": .string(Self.rootCADescription)],
                ],
                "data": data,
            ]
            _ = try? await configMaps.create(namespace: namespace, object: configMap, options: WriteOptions())
            return
        }
        guard stored["data"] != data || (stored.annotations["kubernetes.io/description"] ?? "").isEmpty else { return }
        _ = try? await configMaps.update(namespace: namespace, name: Self.rootCAConfigMap, options: WriteOptions()) {
            old in
            var object = old
            object["data"] = data
            var annotations = object["metadata"]?["annotations"]?.objectValue ?? JSONObject()
            if (annotations["kubernetes.io/description"]?.stringValue ?? "").isEmpty {
                annotations["kubernetes.io/description"] = .string(Self.rootCADescription)
            }
            object.setMeta("annotations", .object(annotations))
            return object
        }
    }
}

extension APIServerCommand {
    /// The CA bundle published as `kube-root-ca.crt`: `--client-ca-file`, else the serving certificate
    /// (self-signed when the server made its own, so it is its own CA).
    static func rootCA(_ flags: FlagSet) -> String {
        var candidates = [flags.string("client-ca-file"), flags.string("tls-cert-file")]
        candidates.append(flags.string("cert-dir") + "/" + SelfSignedServingCertificate.pairName + ".crt")
        for path in candidates where !path.isEmpty {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty { return text }
        }
        return ""
    }

    /// Builds the admission chain from `--admission-control`, `--enable-admission-plugins` and
    /// `--disable-admission-plugins`, logging the enabled plugins this server does not implement.
    static func admissionChain(_ flags: FlagSet, logger: Logger) throws -> AdmissionChain {
        func names(_ flag: String) -> [String]? { flags.isSet(flag) ? flags.list(flag) : nil }
        let selection = try AdmissionPlugins.select(
            admissionControl: names("admission-control"), enable: names("enable-admission-plugins"),
            disable: names("disable-admission-plugins"))
        logger.info("Loaded admission plugins in order: \(selection.enabled.joined(separator: ","))")
        for name in selection.withoutEffect {
            logger.info("admission plugin \(name) is enabled and has no effect: this server does not implement it")
        }
        return selection.chain
    }
}

import Client
import Component
import Foundation
import Logging

/// Upstream's root-ca-cert-publisher: every namespace has the `kube-root-ca.crt` ConfigMap holding the CA
/// bundle that verifies the API server, put back when it is deleted or edited.
final class RootCACertificatePublisher: Controller {
    static let descriptor = ControllerDescriptor(
        name: "root-ca-certificate-publisher-controller", aliases: ["root-ca-cert-publisher"],
        serviceAccount: "root-ca-cert-publisher", flags: [FlagDefinition("root-ca-file")]
    ) { context in
        let rootCA = try RootCA.load(context)
        guard !rootCA.isEmpty else {
            context.logger.info("root-ca-certificate-publisher-controller has no CA to publish")
            return nil
        }
        return RootCACertificatePublisher(context: context, rootCA: rootCA)
    }

    static let configMapName = "kube-root-ca.crt"
    static let descriptionAnnotation = "kubernetes.io/description"
    static let description =
        "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."

    let context: ControllerContext
    let rootCA: String
    let queue: RateLimitingQueue<String>
    let namespaces: Lister<Namespace>
    let configMaps: Lister<ConfigMap>

    init(context: ControllerContext, rootCA: String) {
        self.context = context
        self.rootCA = rootCA
        queue = RateLimitingQueue(name: "root_ca_cert_publisher", time: context.time)
        let namespaceInformer = context.informers.informer(for: Namespace.self)
        let configMapInformer = context.informers.informer(for: ConfigMap.self)
        namespaces = namespaceInformer.lister
        configMaps = configMapInformer.lister
        let queue = self.queue
        namespaceInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { namespace, _ in queue.add(namespace.metadata.name ?? "") },
                onUpdate: { _, namespace in
                    if namespace.status.phase == "Active" { queue.add(namespace.metadata.name ?? "") }
                }))
        configMapInformer.addEventHandler(
            ResourceEventHandler(
                onUpdate: { _, configMap in
                    if configMap.metadata.name == Self.configMapName { queue.add(configMap.key.namespace) }
                },
                onDelete: { event in
                    if event.key.name == Self.configMapName { queue.add(event.key.namespace) }
                }))
    }

    func run(workers: Int) async {
        await queue.runWorkers(workers, logger: context.logger) { name in try await self.sync(name) }
    }

    /// What publishing needs in one namespace, given the ConfigMap there now.
    enum Action: Equatable {
        case none
        case create(ConfigMap)
        case update(ConfigMap)
    }

    /// Create the ConfigMap if missing; put back the CA and the description if either was changed.
    static func action(namespace: String, existing: ConfigMap?, rootCA: String) -> Action {
        let data = ["ca.crt": rootCA]
        guard var configMap = existing else {
            var created = ConfigMap(data: data)
            created.metadata.name = configMapName
            created.metadata.namespace = namespace
            created.metadata.annotations = [descriptionAnnotation: description]
            return .create(created)
        }
        if configMap.data == data && !(configMap.metadata.annotations[descriptionAnnotation] ?? "").isEmpty {
            return .none
        }
        configMap.data = data
        configMap.metadata.annotations[descriptionAnnotation] = description
        return .update(configMap)
    }

    func sync(_ name: String) async throws {
        guard let namespace = namespaces.get(name: name), namespace.metadata.deletionTimestamp == nil else { return }
        let client = ResourceClient<ConfigMap>(client: context.client, namespace: name)
        switch Self.action(
            namespace: name, existing: configMaps.get(namespace: name, name: Self.configMapName), rootCA: rootCA)
        {
        case .none:
            return
        case .create(let configMap):
            do {
                _ = try await client.create(configMap)
            } catch let error as StatusError where error.code == 404 || error.isNamespaceTerminatingRefusal {
                // The namespace is gone or going: nothing to publish there.
            }
        case .update(let configMap):
            _ = try await client.update(configMap)
        }
    }
}

/// The CA bundle controllers publish: `--root-ca-file`, else the CA the manager's kubeconfig trusts.
enum RootCA {
    static func load(_ context: ControllerContext) throws -> String {
        let path = context.flags.string("root-ca-file")
        if !path.isEmpty {
            do {
                return try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw FlagError(message: "error reading root-ca-file at \(path): \(error.localizedDescription)")
            }
        }
        return context.client.configuration.trustRootsPEM.map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}

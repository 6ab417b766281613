import APIMachinery
import Storage

extension APIServer {
    /// First-start state, as upstream's bootstrap controller makes it: the system namespaces, and the
    /// `kubernetes` Service with the range's first IP. Its Endpoints are created pointing at
    /// `advertiseAddress` when missing (nil leaves them alone); from then on `KubernetesServiceController` keeps
    /// them listing every live server.
    public func bootstrap(advertiseAddress: String?, securePort: Int) async throws {
        // Every resource's watch cache starts now, from one revision, so watchers from here on are served by it.
        let revision = try await storage.currentRevision()
        for store in stores.values { store.watchCache?.start(from: revision) }
        startCustomResourceDefinitionController()
        guard let namespaces = store(resource: "namespaces"), let services = store(resource: "services"),
            let endpoints = store(resource: "endpoints")
        else { return }
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            do {
                _ = try await namespaces.create(
                    namespace: nil,
                    object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]],
                    options: WriteOptions())
            } catch let error as APIError where error.reason == .alreadyExists {}
        }
        let service: JSON = [
            "apiVersion": "v1", "kind": "Service",
            "metadata": [
                "name": "kubernetes", "namespace": "default",
                "labels": ["component": "apiserver", "provider": "kubernetes"],
            ],
            "spec": [
                "clusterIP": .string(context.serviceIPs.kubernetesServiceIP),
                "ports": [["name": "https", "port": 443, "protocol": "TCP", "targetPort": .int(Int64(securePort))]],
                "sessionAffinity": "None", "type": "ClusterIP",
            ],
        ]
        do {
            _ = try await services.create(namespace: "default", object: service, options: WriteOptions())
        } catch let error as APIError where error.reason == .alreadyExists || error.code == 422 {}
        if let advertiseAddress {
            let initial = KubernetesEndpoints(addresses: [advertiseAddress], port: securePort)
            do {
                _ = try await endpoints.create(
                    namespace: KubernetesEndpoints.namespace, object: initial.endpoints(from: nil),
                    options: WriteOptions())
            } catch let error as APIError where error.reason == .alreadyExists {}
        }
        try await bootstrapPriorityClasses()
        try await ensureFlowControlConfiguration()
        try await startAuthorization()
    }

    /// Compacts storage history periodically, as upstream does every `--etcd-compaction-interval`: each
    /// round forgets what is older than the revision seen one interval earlier, so watchers and paged lists
    /// have at least one interval to catch up.
    public func runCompaction(every interval: Duration) async {
        guard interval > .zero else { return }
        var previous: Int64 = 0
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            guard let current = try? await storage.currentRevision() else { continue }
            if previous > 0 { try? await storage.compact(revision: previous) }
            previous = current
        }
    }
}

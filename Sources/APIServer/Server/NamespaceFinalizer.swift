import APIMachinery
import Storage

extension APIServer {
    /// Empties terminating namespaces and removes them. Upstream's controller-manager does this; the API
    /// server does it here so `kubectl delete namespace` completes before the controller-manager lands.
    public func runNamespaceFinalizer() async {
        guard let namespaces = store(resource: "namespaces") else { return }
        while !Task.isCancelled {
            do {
                let events = try await namespaces.watch(namespace: nil, options: ListOptions())
                for await event in events {
                    guard case .event(let type, let object, _) = event, type != "DELETED",
                        object["metadata"]?["deletionTimestamp"] != nil, let name = object.name
                    else { continue }
                    await finalize(namespace: name, store: namespaces)
                }
            } catch {
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    func finalize(namespace: String, store namespaces: RegistryStore) async {
        for store in stores.values where store.definition.namespaced {
            guard let page = try? await store.list(namespace: namespace, options: ListOptions()) else { continue }
            for object in page.items {
                var options = DeleteOptions()
                options.gracePeriodSeconds = 0
                _ = try? await store.delete(
                    namespace: namespace, name: object.name ?? "", options: options, write: WriteOptions())
            }
        }
        // Clearing spec.finalizers and deleting is one step here: nothing else watches the finalizer.
        if let current = try? await namespaces.storage.get(key: namespaces.key(namespace: nil, name: namespace)) {
            _ = try? await namespaces.storage.delete(key: current.key, expectedRevision: current.modRevision)
        }
    }
}

import APIMachinery
import Client

/// Binds a pod by creating its `pods/binding` subresource, as upstream's default binder.
struct DefaultBinder: BindPlugin {
    let name = "DefaultBinder"
    let clusterEvents: Set<ClusterEvent> = []
    let client: RESTClient?

    func bind(state: CycleState, pod: PodInfo, nodeName: String) async -> PluginStatus {
        guard let client else { return .error("DefaultBinder has no API client") }
        let binding = Binding(
            target: ObjectReference(kind: "Node", name: nodeName),
            metadata: ObjectMeta(name: pod.name, namespace: pod.namespace, uid: pod.pod.metadata.uid))
        do {
            let path = Pod.resource.path(namespace: pod.namespace, name: pod.name, subresource: "binding")
            _ = try await client.post(path: path, body: binding.toJSON().encoded())
            return .success
        } catch {
            return .error("\(error)")
        }
    }
}

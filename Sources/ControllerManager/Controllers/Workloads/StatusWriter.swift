import APIMachinery
import Client

/// Status writes as upstream's workload controllers make them (`RetryOnConflict` around a fresh read): the
/// controller's cache is often one write behind its own status updates, so a conflict is met by reading the
/// object again and applying the same status, rather than by a rate-limited requeue.
enum StatusWriter {
    /// Writes `status` onto `object` unless it already has it; a deleted object is nothing to do.
    static func write<Object: KubernetesObject>(
        _ object: Object, client: RESTClient, status: @Sendable (inout Object) -> Void
    ) async throws where Object: Equatable {
        let api = ResourceClient<Object>(client: client, namespace: object.metadata.namespace)
        var current = object
        for attempt in 0..<5 {
            var updated = current
            status(&updated)
            guard updated != current else { return }
            do {
                _ = try await api.updateStatus(updated)
                return
            } catch let error as StatusError where error.code == 409 && attempt < 4 {
                current = try await api.get(object.metadata.name ?? "")
                guard current.metadata.uid == object.metadata.uid else { return }
            } catch let error as StatusError where error.code == 404 {
                return
            }
        }
    }
}

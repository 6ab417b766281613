public import Client

/// Creates and deletes the pods of a workload controller as upstream's `RealPodControl` does: pods are made
/// from the owner's template, named after the owner, carry its controller reference, and each
/// creation and deletion is recorded as an event on the owner.
public struct PodControl: Sendable {
    let client: RESTClient
    let recorder: EventRecorder

    public init(client: RESTClient, recorder: EventRecorder) {
        self.client = client
        self.recorder = recorder
    }

    /// The pod `template` describes, owned by `owner`, not yet created; `generateName` is the owner's name
    /// plus a dash unless a name is given.
    public static func pod(
        from template: PodTemplateSpec, owner: some KubernetesObject, name: String? = nil
    ) -> Pod {
        var metadata = ObjectMeta()
        metadata.labels = template.metadata?.labels ?? [:]
        metadata.annotations = template.metadata?.annotations ?? [:]
        metadata.finalizers = template.metadata?.finalizers ?? []
        metadata.namespace = owner.metadata.namespace
        if let name {
            metadata.name = name
        } else {
            // Upstream trims the owner's name so the generated one stays within 63 characters.
            metadata.generateName = String((owner.metadata.name ?? "").prefix(57)) + "-"
        }
        metadata.ownerReferences = [OwnerReference(controller: owner)]
        return Pod(metadata: metadata, spec: template.spec ?? PodSpec())
    }

    /// Creates `pod` for `owner`; the created pod, or the API error (an event records the failure too).
    @discardableResult
    public func create(_ pod: Pod, owner: some KubernetesObject) async throws -> Pod {
        let reference = ObjectReference(to: owner)
        do {
            let created = try await ResourceClient<Pod>(client: client, namespace: pod.metadata.namespace).create(pod)
            recorder.eventf(
                regarding: reference, type: .normal, reason: "SuccessfulCreate", action: "Create",
                note: "Created pod: \(created.metadata.name ?? "")")
            return created
        } catch {
            recorder.eventf(
                regarding: reference, type: .warning, reason: "FailedCreate", action: "Create",
                note: "Error creating: \(error)")
            throw error
        }
    }

    /// Deletes `pod` of `owner` (a pod already gone counts as deleted).
    public func delete(_ pod: Pod, owner: some KubernetesObject) async throws {
        let reference = ObjectReference(to: owner)
        let name = pod.metadata.name ?? ""
        do {
            try await ResourceClient<Pod>(client: client, namespace: pod.metadata.namespace).delete(name)
            recorder.eventf(
                regarding: reference, type: .normal, reason: "SuccessfulDelete", action: "Delete",
                note: "Deleted pod: \(name)")
        } catch let error as StatusError where error.code == 404 {
            return
        } catch {
            recorder.eventf(
                regarding: reference, type: .warning, reason: "FailedDelete", action: "Delete",
                note: "Error deleting: \(error)")
            throw error
        }
    }
}
